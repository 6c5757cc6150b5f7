"""State that outlives a deploy: PostgreSQL, Redis, the object bucket, the secrets and their key."""

from __future__ import annotations

from aws_cdk import ArnFormat, Duration, RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticache as elasticache
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_rds as rds
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from .network import DATA, REDIS_PORT, NetworkStack
from .settings import OBJECT_PREFIX, Deployment
from .suppressions import skip_checkov

DB_NAME = "tradesim"
DB_USER = "tradesim"


class DataStack(Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, deployment: Deployment, network: NetworkStack, **kwargs
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        removal = RemovalPolicy.RETAIN if deployment.is_production else RemovalPolicy.SNAPSHOT
        data_subnets = ec2.SubnetSelection(subnet_group_name=DATA)

        self.key = kms.Key(
            self,
            "DataKey",
            description=f"tradesim {deployment.name}: database, cache, bucket, secrets and logs",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        # CloudWatch Logs encrypts the task and WAF log groups with this key.
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal(f"logs.{self.region}.amazonaws.com")],
                actions=["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
                resources=["*"],
                conditions={
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": self.format_arn(
                            service="logs", resource="*", arn_format=ArnFormat.NO_RESOURCE_NAME
                        )
                    }
                },
            )
        )

        self.log_bucket = self._log_bucket()
        self.bucket = s3.Bucket(
            self,
            "Objects",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self.key,
            bucket_key_enabled=True,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            versioned=True,
            server_access_logs_bucket=self.log_bucket,
            server_access_logs_prefix="s3-access/objects/",
            lifecycle_rules=[
                s3.LifecycleRule(
                    noncurrent_version_expiration=Duration.days(90),
                    abort_incomplete_multipart_upload_after=Duration.days(7),
                )
            ],
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.object_store_url = f"s3://{self.bucket.bucket_name}/{OBJECT_PREFIX}"

        self.database = rds.DatabaseInstance(
            self,
            "Postgres",
            engine=rds.DatabaseInstanceEngine.postgres(version=rds.PostgresEngineVersion.VER_17_6),
            instance_type=ec2.InstanceType("m7g.large" if deployment.is_production else "t4g.medium"),
            vpc=network.vpc,
            vpc_subnets=data_subnets,
            security_groups=[network.db_sg],
            publicly_accessible=False,
            multi_az=deployment.multi_az,
            database_name=DB_NAME,
            credentials=rds.Credentials.from_generated_secret(
                DB_USER, encryption_key=self.key, secret_name=f"tradesim/{deployment.name}/db"
            ),
            storage_encrypted=True,
            storage_encryption_key=self.key,
            storage_type=rds.StorageType.GP3,
            allocated_storage=50,
            max_allocated_storage=1000,
            parameters={"rds.force_ssl": "1", "log_min_duration_statement": "1000"},
            backup_retention=Duration.days(14 if deployment.is_production else 7),
            deletion_protection=deployment.is_production,
            iam_authentication=True,
            auto_minor_version_upgrade=True,
            copy_tags_to_snapshot=True,
            cloudwatch_logs_exports=["postgresql", "upgrade"],
            monitoring_interval=Duration.seconds(60),
            enable_performance_insights=True,
            performance_insight_encryption_key=self.key,
            removal_policy=removal,
        )
        if self.database.secret is None:
            raise RuntimeError("generated credentials always come with a secret")
        if not deployment.multi_az:
            skip_checkov(self.database, CKV_AWS_157="Single-AZ by choice outside production, to halve its cost.")
        # Production refuses a URL with a password in it: the password arrives apart, as DB_PASSWORD.
        self.database_url = (
            f"postgresql+asyncpg://{DB_USER}@{self.database.db_instance_endpoint_address}"
            f":{self.database.db_instance_endpoint_port}/{DB_NAME}"
        )

        self.redis_auth = self._generated_secret("RedisAuthToken", deployment, "REDIS_AUTH_TOKEN")
        self.redis = self._redis(deployment, network, data_subnets)
        self.redis_url = (
            f"rediss://{self.redis.attr_primary_end_point_address}:{self.redis.attr_primary_end_point_port}/0"
        )

        self.jwt_secret = self._generated_secret("JwtSecret", deployment, "JWT_SECRET")
        # Created with a random value so that tasks start; the operator stores the real key (README).
        self.bybit_api_key = self._generated_secret("BybitApiKey", deployment, "BYBIT_API_KEY")

        # Every secret a task may receive, by the environment name the app reads it from, with the
        # JSON field to take (None: the whole secret string).
        self.secrets: dict[str, tuple[secretsmanager.ISecret, str | None]] = {
            "DB_PASSWORD": (self.database.secret, "password"),
            "REDIS_AUTH_TOKEN": (self.redis_auth, None),
            "JWT_SECRET": (self.jwt_secret, None),
            "BYBIT_API_KEY": (self.bybit_api_key, None),
        }

    def _log_bucket(self) -> s3.Bucket:
        bucket = s3.Bucket(
            self,
            "AccessLogs",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            # ALB access logs can only be written to a bucket with S3-managed keys.
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            versioned=True,
            lifecycle_rules=[
                s3.LifecycleRule(expiration=Duration.days(400), noncurrent_version_expiration=Duration.days(30))
            ],
            removal_policy=RemovalPolicy.RETAIN,
        )
        skip_checkov(
            bucket,
            CKV_AWS_18="This is the access-log bucket; logging it into itself would loop.",
        )
        return bucket

    def _generated_secret(self, construct_id: str, deployment: Deployment, env_name: str) -> secretsmanager.Secret:
        secret = secretsmanager.Secret(
            self,
            construct_id,
            secret_name=f"tradesim/{deployment.name}/{env_name}",
            description=f"{env_name} for tradesim {deployment.name}, injected into tasks as an ECS secret",
            encryption_key=self.key,
            generate_secret_string=secretsmanager.SecretStringGenerator(password_length=64, exclude_punctuation=True),
        )
        return secret

    def _redis(
        self, deployment: Deployment, network: NetworkStack, data_subnets: ec2.SubnetSelection
    ) -> elasticache.CfnReplicationGroup:
        subnets = elasticache.CfnSubnetGroup(
            self,
            "RedisSubnets",
            description="tradesim Redis: data subnets only",
            subnet_ids=network.vpc.select_subnets(subnet_group_name=data_subnets.subnet_group_name).subnet_ids,
        )
        return elasticache.CfnReplicationGroup(
            self,
            "Redis",
            replication_group_description=f"tradesim {deployment.name}: price channels, order streams, events",
            engine="redis",
            engine_version="7.1",
            cache_node_type="cache.m7g.large" if deployment.is_production else "cache.t4g.small",
            num_cache_clusters=2 if deployment.multi_az else 1,
            automatic_failover_enabled=deployment.multi_az,
            multi_az_enabled=deployment.multi_az,
            port=REDIS_PORT,
            cache_subnet_group_name=subnets.ref,
            security_group_ids=[network.redis_sg.security_group_id],
            transit_encryption_enabled=True,
            transit_encryption_mode="required",
            at_rest_encryption_enabled=True,
            kms_key_id=self.key.key_arn,
            # A dynamic reference: CloudFormation resolves it at deploy time, the template holds no token.
            auth_token=self.redis_auth.secret_value.unsafe_unwrap(),
            snapshot_retention_limit=7,
            auto_minor_version_upgrade=True,
        )
