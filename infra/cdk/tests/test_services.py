"""The edge (HTTPS, redirect, WAF), the api with stickiness and scaling, Spot workers, streamer, sync."""

from __future__ import annotations

from tradesim_infra.edge import MANAGED_RULE_GROUPS

from .templates import Stacks


def _service(stacks: Stacks, name: str) -> tuple[str, dict]:
    for logical, service in stacks.resources("services", "AWS::ECS::Service").items():
        if service["Properties"]["ServiceName"] == name:
            return logical, service["Properties"]
    raise AssertionError(f"no service {name}")


def _listener(stacks: Stacks, port: int) -> dict:
    for listener in stacks.resources("services", "AWS::ElasticLoadBalancingV2::Listener").values():
        if listener["Properties"]["Port"] == port:
            return listener["Properties"]
    raise AssertionError(f"no listener on {port}")


def test_https_listener_uses_the_configured_certificate_and_a_tls12_plus_policy(stacks: Stacks):
    https = _listener(stacks, 443)
    assert https["Protocol"] == "HTTPS"
    assert https["Certificates"] == [{"CertificateArn": stacks.deployment.certificate_arn}]
    assert https["SslPolicy"] == "ELBSecurityPolicy-TLS13-1-2-Res-2021-06"


def test_http_only_redirects_to_https(stacks: Stacks):
    http = _listener(stacks, 80)
    assert http["DefaultActions"] == [
        {"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}}
    ]


def test_api_target_group_is_sticky_by_load_balancer_cookie_and_checks_readiness(stacks: Stacks):
    https = _listener(stacks, 443)
    (action,) = https["DefaultActions"]
    group_id = action["TargetGroupArn"]["Ref"]
    group = stacks.json("services")["Resources"][group_id]["Properties"]
    attributes = {a["Key"]: a["Value"] for a in group["TargetGroupAttributes"]}
    assert attributes["stickiness.enabled"] == "true"
    assert attributes["stickiness.type"] == "lb_cookie"
    assert group["HealthCheckPath"] == "/readyz"
    assert group["Port"] == 8000
    _, api = _service(stacks, "api")
    assert api["LoadBalancers"] == [
        {"ContainerName": "api", "ContainerPort": 8000, "TargetGroupArn": {"Ref": group_id}}
    ]


def test_load_balancer_drops_invalid_headers_and_logs_access(stacks: Stacks):
    _, alb = stacks.one("services", "AWS::ElasticLoadBalancingV2::LoadBalancer")
    attributes = {a["Key"]: a["Value"] for a in alb["Properties"]["LoadBalancerAttributes"]}
    assert attributes["routing.http.drop_invalid_header_fields.enabled"] == "true"
    assert attributes["access_logs.s3.enabled"] == "true"


def test_waf_is_attached_to_the_load_balancer(stacks: Stacks):
    acl_id, acl = stacks.one("services", "AWS::WAFv2::WebACL")
    alb_id, _ = stacks.one("services", "AWS::ElasticLoadBalancingV2::LoadBalancer")
    _, association = stacks.one("services", "AWS::WAFv2::WebACLAssociation")
    assert association["Properties"] == {"ResourceArn": {"Ref": alb_id}, "WebACLArn": {"Fn::GetAtt": [acl_id, "Arn"]}}
    assert acl["Properties"]["Scope"] == "REGIONAL"
    assert acl["Properties"]["DefaultAction"] == {"Allow": {}}
    _, logging = stacks.one("services", "AWS::WAFv2::LoggingConfiguration")
    assert logging["Properties"]["ResourceArn"] == {"Fn::GetAtt": [acl_id, "Arn"]}


def test_waf_runs_the_managed_rule_groups_and_a_blocking_rate_limit(stacks: Stacks):
    _, acl = stacks.one("services", "AWS::WAFv2::WebACL")
    rules = acl["Properties"]["Rules"]
    managed = {
        r["Statement"]["ManagedRuleGroupStatement"]["Name"]
        for r in rules
        if "ManagedRuleGroupStatement" in r["Statement"]
    }
    assert (
        managed
        == set(MANAGED_RULE_GROUPS)
        == {
            "AWSManagedRulesCommonRuleSet",
            "AWSManagedRulesSQLiRuleSet",
            "AWSManagedRulesKnownBadInputsRuleSet",
            "AWSManagedRulesAmazonIpReputationList",
        }
    )
    for rule in rules:
        if "ManagedRuleGroupStatement" in rule["Statement"]:
            assert rule["OverrideAction"] == {"None": {}}, "a managed group left in count mode blocks nothing"
    (rate,) = [r for r in rules if "RateBasedStatement" in r["Statement"]]
    assert rate["Action"] == {"Block": {}}
    assert rate["Statement"]["RateBasedStatement"]["AggregateKeyType"] == "IP"
    assert len({r["Priority"] for r in rules}) == len(rules)


def test_api_runs_on_fargate_and_scales_on_cpu_and_websockets(stacks: Stacks):
    api_id, api = _service(stacks, "api")
    assert api["LaunchType"] == "FARGATE"
    target_id, target = stacks.one("services", "AWS::ApplicationAutoScaling::ScalableTarget")
    assert {"Fn::GetAtt": [api_id, "Name"]} in target["Properties"]["ResourceId"]["Fn::Join"][1]
    assert (target["Properties"]["MinCapacity"], target["Properties"]["MaxCapacity"]) == (
        stacks.deployment.api_tasks.min,
        stacks.deployment.api_tasks.max,
    )
    policies = [
        p["Properties"]["TargetTrackingScalingPolicyConfiguration"]
        for p in stacks.resources("services", "AWS::ApplicationAutoScaling::ScalingPolicy").values()
        if p["Properties"]["ScalingTargetId"] == {"Ref": target_id}
    ]
    assert len(policies) == 2
    cpu = [p for p in policies if "PredefinedMetricSpecification" in p]
    assert cpu[0]["PredefinedMetricSpecification"] == {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"}
    sockets = [p["CustomizedMetricSpecification"] for p in policies if "CustomizedMetricSpecification" in p]
    assert sockets == [
        {
            "Namespace": "Tradesim",
            "MetricName": "ActiveWebSockets",
            "Dimensions": [{"Name": "Service", "Value": "api"}],
            "Statistic": "Average",
        }
    ]


def test_workers_run_only_on_an_all_spot_capacity_provider(stacks: Stacks):
    _, worker = _service(stacks, "worker")
    provider_id, provider = stacks.one("services", "AWS::ECS::CapacityProvider")
    assert worker["CapacityProviderStrategy"] == [{"CapacityProvider": {"Ref": provider_id}, "Weight": 1}]
    assert "LaunchType" not in worker
    group_id, group = stacks.one("services", "AWS::AutoScaling::AutoScalingGroup")
    assert provider["Properties"]["AutoScalingGroupProvider"]["AutoScalingGroupArn"] == {"Ref": group_id}
    distribution = group["Properties"]["MixedInstancesPolicy"]["InstancesDistribution"]
    assert distribution["OnDemandBaseCapacity"] == 0
    assert distribution["OnDemandPercentageAboveBaseCapacity"] == 0
    assert len(group["Properties"]["MixedInstancesPolicy"]["LaunchTemplate"]["Overrides"]) >= 3
    _, association = stacks.one("services", "AWS::ECS::ClusterCapacityProviderAssociations")
    assert association["Properties"]["CapacityProviders"] == [{"Ref": provider_id}]


def test_worker_hosts_require_imdsv2_encrypt_disks_and_hide_host_credentials_from_tasks(stacks: Stacks):
    _, template = stacks.one("services", "AWS::EC2::LaunchTemplate")
    data = template["Properties"]["LaunchTemplateData"]
    assert data["MetadataOptions"]["HttpTokens"] == "required"
    assert all(d["Ebs"]["Encrypted"] for d in data["BlockDeviceMappings"])
    assert "ECS_AWSVPC_BLOCK_IMDS=true" in data["UserData"]["Fn::Base64"]["Fn::Join"][1][0]


def test_streamer_is_its_own_single_fargate_service(stacks: Stacks):
    _, streamer = _service(stacks, "streamer")
    assert streamer["LaunchType"] == "FARGATE"
    assert streamer["DesiredCount"] == 1
    assert stacks.container("streamer")["Command"] == ["streamer"]


def test_nightly_sync_is_a_scheduled_fargate_task_at_0005_utc(stacks: Stacks):
    _, rule = stacks.one("services", "AWS::Events::Rule")
    assert rule["Properties"]["ScheduleExpression"] == "cron(5 0 * * ? *)"
    (target,) = rule["Properties"]["Targets"]
    cluster_id, _ = stacks.one("services", "AWS::ECS::Cluster")
    assert target["Arn"] == {"Fn::GetAtt": [cluster_id, "Arn"]}
    sync_id, _ = stacks.task_definition("sync")
    assert target["EcsParameters"]["TaskDefinitionArn"] == {"Ref": sync_id}
    assert target["EcsParameters"]["LaunchType"] == "FARGATE"
    assert stacks.container("sync")["Command"] == ["history", "sync"]


def test_every_service_rolls_back_a_failed_deployment(stacks: Stacks):
    for name in ("api", "worker", "streamer"):
        _, service = _service(stacks, name)
        assert service["DeploymentConfiguration"]["DeploymentCircuitBreaker"] == {"Enable": True, "Rollback": True}
