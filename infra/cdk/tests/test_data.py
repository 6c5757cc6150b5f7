"""PostgreSQL, Redis, the bucket, the registry and the secrets."""

from __future__ import annotations

from .templates import Stacks


def test_postgres_is_15_or_newer_encrypted_private_and_behind_the_db_group(stacks: Stacks):
    _, db = stacks.one("data", "AWS::RDS::DBInstance")
    props = db["Properties"]
    assert props["Engine"] == "postgres"
    assert int(props["EngineVersion"].split(".")[0]) >= 15
    assert props["StorageEncrypted"] is True
    assert "KmsKeyId" in props
    assert props["PubliclyAccessible"] is False
    assert [stacks.security_group(g, "data") for g in props["VPCSecurityGroups"]] == ["DbSg"]


def test_postgres_is_multi_az_and_protected_in_production_only(production: Stacks, staging: Stacks):
    prod = production.one("data", "AWS::RDS::DBInstance")[1]["Properties"]
    assert prod["MultiAZ"] is True
    assert prod["DeletionProtection"] is True
    assert staging.one("data", "AWS::RDS::DBInstance")[1]["Properties"]["MultiAZ"] is False


def test_postgres_refuses_plaintext_connections(stacks: Stacks):
    _, params = stacks.one("data", "AWS::RDS::DBParameterGroup")
    assert params["Properties"]["Parameters"]["rds.force_ssl"] == "1"


def test_redis_encrypts_in_transit_and_at_rest_and_requires_the_secret_auth_token(stacks: Stacks):
    _, redis = stacks.one("data", "AWS::ElastiCache::ReplicationGroup")
    props = redis["Properties"]
    assert props["TransitEncryptionEnabled"] is True
    assert props["TransitEncryptionMode"] == "required"
    assert props["AtRestEncryptionEnabled"] is True
    assert [stacks.security_group(g, "data") for g in props["SecurityGroupIds"]] == ["RedisSg"]
    # A dynamic reference to the generated secret: the template never holds the token itself.
    token_secret = stacks.logical_id("data", "RedisAuthToken")
    assert props["AuthToken"] == {
        "Fn::Join": ["", ["{{resolve:secretsmanager:", {"Ref": token_secret}, ":SecretString:::}}"]]
    }


def test_redis_fails_over_across_zones_in_production(production: Stacks):
    props = production.one("data", "AWS::ElastiCache::ReplicationGroup")[1]["Properties"]
    assert props["MultiAZEnabled"] is True
    assert props["AutomaticFailoverEnabled"] is True
    assert props["NumCacheClusters"] == 2


def test_bucket_blocks_public_access_is_encrypted_and_versioned(stacks: Stacks):
    bucket_id = stacks.logical_id("data", "Objects")
    props = stacks.json("data")["Resources"][bucket_id]["Properties"]
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    (rule,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}


def test_bucket_policy_denies_every_request_without_tls(stacks: Stacks):
    bucket_id = stacks.logical_id("data", "Objects")
    policies = [
        p
        for p in stacks.resources("data", "AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": bucket_id}
    ]
    (policy,) = policies
    denials = [
        s
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        if s["Effect"] == "Deny" and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
    ]
    assert len(denials) == 1
    assert denials[0]["Principal"] == {"AWS": "*"}
    assert denials[0]["Action"] == "s3:*"


def test_registry_scans_every_pushed_image(stacks: Stacks):
    _, repo = stacks.one("delivery", "AWS::ECR::Repository")
    assert repo["Properties"]["ImageScanningConfiguration"] == {"ScanOnPush": True}


def test_secrets_are_generated_never_written_into_the_template(stacks: Stacks):
    secrets = stacks.resources("data", "AWS::SecretsManager::Secret")
    names = {s["Properties"]["Name"] for s in secrets.values()}
    prefix = f"tradesim/{stacks.deployment.name}/"
    assert names == {prefix + n for n in ("db", "JWT_SECRET", "BYBIT_API_KEY", "REDIS_AUTH_TOKEN")}
    for secret in secrets.values():
        assert "SecretString" not in secret["Properties"]
        assert "GenerateSecretString" in secret["Properties"]
        assert "KmsKeyId" in secret["Properties"]
