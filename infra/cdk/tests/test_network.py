"""Three zones, subnet tiers with the right routes, and the security-group chain."""

from __future__ import annotations

from collections import defaultdict

from tradesim_infra.network import APP, DATA, PUBLIC

from .templates import Stacks

ANYWHERE = "0.0.0.0/0"


def _subnets_by_tier(stacks: Stacks) -> dict[str, dict[str, dict]]:
    tiers: dict[str, dict[str, dict]] = defaultdict(dict)
    for logical, subnet in stacks.resources("network", "AWS::EC2::Subnet").items():
        tags = {t["Key"]: t["Value"] for t in subnet["Properties"]["Tags"]}
        tiers[tags["aws-cdk:subnet-name"]][logical] = subnet
    return tiers


def test_every_tier_spans_exactly_the_three_pinned_zones(stacks: Stacks):
    tiers = _subnets_by_tier(stacks)
    assert set(tiers) == {PUBLIC, APP, DATA}
    for tier, subnets in tiers.items():
        zones = sorted(s["Properties"]["AvailabilityZone"] for s in subnets.values())
        assert zones == sorted(stacks.deployment.availability_zones), tier


def test_public_subnets_hand_out_no_public_addresses(stacks: Stacks):
    for subnet in _subnets_by_tier(stacks)[PUBLIC].values():
        assert subnet["Properties"]["MapPublicIpOnLaunch"] is False


def _default_routes(stacks: Stacks) -> dict[str, dict]:
    """Route table logical id -> its 0.0.0.0/0 route."""
    return {
        r["Properties"]["RouteTableId"]["Ref"]: r["Properties"]
        for r in stacks.resources("network", "AWS::EC2::Route").values()
        if r["Properties"].get("DestinationCidrBlock") == ANYWHERE
    }


def _route_table_of(stacks: Stacks, subnet_logical_id: str) -> str:
    for assoc in stacks.resources("network", "AWS::EC2::SubnetRouteTableAssociation").values():
        if assoc["Properties"]["SubnetId"] == {"Ref": subnet_logical_id}:
            return assoc["Properties"]["RouteTableId"]["Ref"]
    raise AssertionError(f"{subnet_logical_id} has no route table")


def test_only_public_subnets_reach_the_internet_gateway_and_data_subnets_reach_nothing(stacks: Stacks):
    routes = _default_routes(stacks)
    tiers = _subnets_by_tier(stacks)
    for logical in tiers[PUBLIC]:
        assert "GatewayId" in routes[_route_table_of(stacks, logical)]
    for logical in tiers[APP]:
        route = routes[_route_table_of(stacks, logical)]
        assert "NatGatewayId" in route
        assert "GatewayId" not in route
    for logical in tiers[DATA]:
        assert _route_table_of(stacks, logical) not in routes


def test_nat_gateways_sit_in_public_subnets_one_per_zone_in_production(stacks: Stacks):
    nats = stacks.resources("network", "AWS::EC2::NatGateway")
    assert len(nats) == stacks.deployment.nat_gateways
    for nat in nats.values():
        assert stacks.subnet_tier(nat["Properties"]["SubnetId"], "network") == PUBLIC


def test_production_has_a_nat_gateway_in_every_zone(production: Stacks):
    assert len(production.resources("network", "AWS::EC2::NatGateway")) == 3


def _rules(stacks: Stacks, type_: str, inline_key: str) -> dict[str, list[dict]]:
    """Security group name -> its rules, inline and standalone, with the peer resolved to a group name."""
    rules: dict[str, list[dict]] = defaultdict(list)
    for logical, sg in stacks.resources("network", "AWS::EC2::SecurityGroup").items():
        name = stacks.security_group({"Ref": logical}, "network")
        rules[name] += sg["Properties"].get(inline_key, [])
    for rule in stacks.resources("network", type_).values():
        props = dict(rule["Properties"])
        name = stacks.security_group(props.pop("GroupId"), "network")
        for peer_key in ("SourceSecurityGroupId", "DestinationSecurityGroupId"):
            if peer_key in props:
                props["peer"] = stacks.security_group(props.pop(peer_key), "network")
        rules[name].append(props)
    return rules


def _shape(rule: dict) -> tuple:
    return (rule.get("CidrIp") or rule.get("peer"), rule["IpProtocol"], rule.get("FromPort"), rule.get("ToPort"))


def test_security_group_chain_alb_to_app_to_data(stacks: Stacks):
    ingress = {
        name: {_shape(r) for r in rules}
        for name, rules in _rules(stacks, "AWS::EC2::SecurityGroupIngress", "SecurityGroupIngress").items()
    }
    assert ingress["AlbSg"] == {(ANYWHERE, "tcp", 443, 443), (ANYWHERE, "tcp", 80, 80)}
    assert ingress["AppSg"] == {("AlbSg", "tcp", 8000, 8000)}
    assert ingress["DbSg"] == {("AppSg", "tcp", 5432, 5432)}
    assert ingress["RedisSg"] == {("AppSg", "tcp", 6379, 6379)}


def test_alb_only_talks_to_the_app_and_data_groups_talk_to_nobody(stacks: Stacks):
    egress = {
        name: {_shape(r) for r in rules}
        for name, rules in _rules(stacks, "AWS::EC2::SecurityGroupEgress", "SecurityGroupEgress").items()
    }
    assert egress["AlbSg"] == {("AppSg", "tcp", 8000, 8000)}
    # CDK's placeholder for "no egress": one ICMP rule to an address that cannot exist.
    for name in ("DbSg", "RedisSg"):
        assert egress[name] == {("255.255.255.255/32", "icmp", 252, 86)}


def test_no_other_stack_adds_rules_to_the_chain(stacks: Stacks):
    for kind in ("data", "delivery", "services"):
        for type_ in ("AWS::EC2::SecurityGroupIngress", "AWS::EC2::SecurityGroupEgress"):
            assert stacks.resources(kind, type_) == {}, f"{kind} adds {type_}"


def test_vpc_flow_logs_are_on(stacks: Stacks):
    _, flow_log = stacks.one("network", "AWS::EC2::FlowLog")
    assert flow_log["Properties"]["TrafficType"] == "ALL"
