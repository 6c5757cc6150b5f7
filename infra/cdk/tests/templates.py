"""Reading synthesised templates: resources by type, and values followed across stack exports."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from aws_cdk.assertions import Template

from tradesim_infra.settings import Deployment


@dataclass
class Stacks:
    deployment: Deployment
    network: Template
    data: Template
    delivery: Template
    services: Template
    _json: dict[str, dict] = field(default_factory=dict, init=False, repr=False)

    def json(self, kind: str) -> dict:
        if kind not in self._json:
            self._json[kind] = getattr(self, kind).to_json()
        return self._json[kind]

    def resources(self, kind: str, type_: str) -> dict[str, dict]:
        return {k: v for k, v in self.json(kind)["Resources"].items() if v["Type"] == type_}

    def one(self, kind: str, type_: str) -> tuple[str, dict]:
        found = self.resources(kind, type_)
        assert len(found) == 1, f"expected one {type_} in {kind}, found {sorted(found)}"
        return next(iter(found.items()))

    def logical_id(self, kind: str, prefix: str) -> str:
        """The logical id CDK gave the construct with this id (ids are the construct id plus a hash)."""
        pattern = re.compile(rf"{prefix}[0-9A-F]{{8}}")
        matches = [k for k in self.json(kind)["Resources"] if pattern.fullmatch(k)]
        assert len(matches) == 1, f"{prefix!r} in {kind}: {matches}"
        return matches[0]

    def resolve(self, value: Any) -> tuple[str | None, Any]:
        """Follow an Fn::ImportValue to the exporting stack; returns (stack kind or None, local value)."""
        if isinstance(value, dict) and "Fn::ImportValue" in value:
            name = value["Fn::ImportValue"]
            for kind in ("network", "data", "delivery"):
                for output in self.json(kind).get("Outputs", {}).values():
                    if output.get("Export", {}).get("Name") == name:
                        return kind, output["Value"]
            raise AssertionError(f"no stack exports {name}")
        return None, value

    def ref_target(self, value: Any, default_kind: str) -> tuple[str, str]:
        """(stack kind, logical id) of a Ref or GetAtt, local or imported."""
        kind, local = self.resolve(value)
        kind = kind or default_kind
        if "Ref" in local:
            return kind, local["Ref"]
        if "Fn::GetAtt" in local:
            return kind, local["Fn::GetAtt"][0]
        raise AssertionError(f"not a reference: {value}")

    def subnet_tier(self, value: Any, default_kind: str) -> str:
        kind, logical = self.ref_target(value, default_kind)
        assert kind == "network", f"{value} is not a subnet of the network stack"
        subnet = self.json("network")["Resources"][logical]
        assert subnet["Type"] == "AWS::EC2::Subnet"
        return {t["Key"]: t["Value"] for t in subnet["Properties"]["Tags"]}["aws-cdk:subnet-name"]

    def security_group(self, value: Any, default_kind: str) -> str:
        """Which of the network's groups (AlbSg, AppSg, DbSg, RedisSg) a value points at."""
        kind, logical = self.ref_target(value, default_kind)
        assert kind == "network", f"{value} is not one of the network's security groups"
        for name in ("AlbSg", "AppSg", "DbSg", "RedisSg"):
            if logical.startswith(name):
                return name
        raise AssertionError(f"unknown security group {logical}")

    def container(self, family_suffix: str) -> dict:
        """The one container definition of the task definition whose family ends with this name."""
        for resource in self.resources("services", "AWS::ECS::TaskDefinition").values():
            if resource["Properties"]["Family"].endswith(f"-{family_suffix}"):
                (container,) = resource["Properties"]["ContainerDefinitions"]
                return container
        raise AssertionError(f"no task definition for {family_suffix}")

    def task_definition(self, family_suffix: str) -> tuple[str, dict]:
        for logical, resource in self.resources("services", "AWS::ECS::TaskDefinition").items():
            if resource["Properties"]["Family"].endswith(f"-{family_suffix}"):
                return logical, resource
        raise AssertionError(f"no task definition for {family_suffix}")

    def role_statements(self, role_logical_id: str) -> list[dict]:
        """Every statement of every IAM policy attached to a role of the services stack."""
        statements = []
        for policy in self.resources("services", "AWS::IAM::Policy").values():
            if {"Ref": role_logical_id} in policy["Properties"]["Roles"]:
                statements += policy["Properties"]["PolicyDocument"]["Statement"]
        return statements


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]
