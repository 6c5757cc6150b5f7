"""What runs where: only the ALB and NAT in public subnets; tasks in app subnets; data in isolated ones."""

from __future__ import annotations

from typing import Any

from tradesim_infra.network import APP, DATA, PUBLIC

from .templates import Stacks


def _references(node: Any):
    """Every Ref / GetAtt / ImportValue inside a template fragment."""
    if isinstance(node, dict):
        if set(node) & {"Ref", "Fn::GetAtt", "Fn::ImportValue"} and len(node) == 1:
            yield node
            return
        for value in node.values():
            yield from _references(value)
    elif isinstance(node, list):
        for value in node:
            yield from _references(value)


def _public_subnet_users(stacks: Stacks) -> set[str]:
    public = {
        logical
        for logical, s in stacks.resources("network", "AWS::EC2::Subnet").items()
        if {t["Key"]: t["Value"] for t in s["Properties"]["Tags"]}["aws-cdk:subnet-name"] == PUBLIC
    }
    users = set()
    for kind in ("network", "data", "delivery", "services"):
        for resource in stacks.json(kind)["Resources"].values():
            for ref in _references(resource.get("Properties", {})):
                if "Ref" in ref and ref["Ref"] in public and kind == "network":
                    users.add(resource["Type"])
                elif "Fn::ImportValue" in ref:
                    source, value = stacks.resolve(ref)
                    if source == "network" and value.get("Ref") in public:
                        users.add(resource["Type"])
    return users


def test_public_subnets_hold_only_the_load_balancer_and_nat_gateways(stacks: Stacks):
    assert _public_subnet_users(stacks) == {
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        "AWS::EC2::NatGateway",
        "AWS::EC2::SubnetRouteTableAssociation",
    }


def test_load_balancer_is_internet_facing_in_the_public_subnets(stacks: Stacks):
    _, alb = stacks.one("services", "AWS::ElasticLoadBalancingV2::LoadBalancer")
    assert alb["Properties"]["Scheme"] == "internet-facing"
    tiers = [stacks.subnet_tier(s, "network") for s in alb["Properties"]["Subnets"]]
    assert tiers == [PUBLIC] * 3


def test_every_service_runs_in_app_subnets_without_public_ips(stacks: Stacks):
    services = stacks.resources("services", "AWS::ECS::Service")
    assert {s["Properties"]["ServiceName"] for s in services.values()} == {"api", "worker", "streamer"}
    for service in services.values():
        network = service["Properties"]["NetworkConfiguration"]["AwsvpcConfiguration"]
        assert network["AssignPublicIp"] == "DISABLED"
        assert {stacks.subnet_tier(s, "network") for s in network["Subnets"]} == {APP}
        assert [stacks.security_group(g, "services") for g in network["SecurityGroups"]] == ["AppSg"]


def test_worker_hosts_and_the_nightly_sync_run_in_app_subnets(stacks: Stacks):
    _, group = stacks.one("services", "AWS::AutoScaling::AutoScalingGroup")
    assert {stacks.subnet_tier(s, "network") for s in group["Properties"]["VPCZoneIdentifier"]} == {APP}
    _, rule = stacks.one("services", "AWS::Events::Rule")
    (target,) = rule["Properties"]["Targets"]
    network = target["EcsParameters"]["NetworkConfiguration"]["AwsVpcConfiguration"]
    assert network["AssignPublicIp"] == "DISABLED"
    assert {stacks.subnet_tier(s, "network") for s in network["Subnets"]} == {APP}


def test_database_and_redis_live_in_isolated_data_subnets(stacks: Stacks):
    _, db_subnets = stacks.one("data", "AWS::RDS::DBSubnetGroup")
    assert [stacks.subnet_tier(s, "network") for s in db_subnets["Properties"]["SubnetIds"]] == [DATA] * 3
    _, redis_subnets = stacks.one("data", "AWS::ElastiCache::SubnetGroup")
    assert [stacks.subnet_tier(s, "network") for s in redis_subnets["Properties"]["SubnetIds"]] == [DATA] * 3
