"""Least privilege: task roles reach only their bucket prefix, execution roles only their own secrets."""

from __future__ import annotations

import pytest

from tradesim_infra.processes import PROCESSES, BucketAccess

from .templates import Stacks, as_list

PREFIX_OBJECTS = "/tradesim/*"


def _roles(stacks: Stacks, name: str) -> tuple[str, str]:
    _, task = stacks.task_definition(name)
    props = task["Properties"]
    return props["TaskRoleArn"]["Fn::GetAtt"][0], props["ExecutionRoleArn"]["Fn::GetAtt"][0]


def _actions(statement: dict) -> set[str]:
    return set(as_list(statement["Action"]))


@pytest.mark.parametrize("name", sorted(PROCESSES))
def test_task_role_touches_only_objects_under_the_prefix(stacks: Stacks, name: str):
    task_role, _ = _roles(stacks, name)
    statements = stacks.role_statements(task_role)
    access = PROCESSES[name].bucket
    s3 = [s for s in statements if any(a.startswith("s3:") for a in _actions(s))]
    if access is BucketAccess.NONE:
        assert s3 == []
        return
    objects = [s for s in s3 if "s3:ListBucket" not in _actions(s)]
    (object_statement,) = objects
    bucket_arn, suffix = object_statement["Resource"]["Fn::Join"][1]
    assert suffix == PREFIX_OBJECTS
    assert stacks.ref_target(bucket_arn, "services") == ("data", stacks.logical_id("data", "Objects"))
    writes = {"s3:PutObject", "s3:DeleteObject"}
    if access is BucketAccess.READ:
        assert _actions(object_statement) == {"s3:GetObject"}
    else:
        assert writes <= _actions(object_statement)
    (listing,) = [s for s in s3 if "s3:ListBucket" in _actions(s)]
    assert listing["Condition"] == {"StringLike": {"s3:prefix": ["tradesim/*"]}}


@pytest.mark.parametrize("name", sorted(PROCESSES))
def test_task_role_has_no_wildcard_resource_except_the_namespaced_metric(stacks: Stacks, name: str):
    task_role, _ = _roles(stacks, name)
    for statement in stacks.role_statements(task_role):
        assert not any(a.startswith("secretsmanager:") for a in _actions(statement)), "secrets come via ECS only"
        if statement["Resource"] == "*":
            assert name == "api"
            assert _actions(statement) == {"cloudwatch:PutMetricData"}
            assert statement["Condition"] == {"StringEquals": {"cloudwatch:namespace": "Tradesim"}}


@pytest.mark.parametrize("name", sorted(PROCESSES))
def test_execution_role_reads_exactly_its_own_secrets(stacks: Stacks, name: str):
    _, execution_role = _roles(stacks, name)
    statements = stacks.role_statements(execution_role)
    readers = [s for s in statements if "secretsmanager:GetSecretValue" in _actions(s)]
    (reader,) = readers
    targets = {stacks.ref_target(r, "services")[1] for r in as_list(reader["Resource"])}
    container = stacks.container(name)
    expected = set()
    for secret in container["Secrets"]:
        value = secret["ValueFrom"]
        value = value["Fn::Join"][1][0] if "Fn::Join" in value else value
        expected.add(stacks.ref_target(value, "services")[1])
    assert targets == expected
    assert len(targets) == len(PROCESSES[name].secrets)
    (key_use,) = [s for s in statements if "kms:Decrypt" in _actions(s)]
    assert key_use["Condition"] == {"StringEquals": {"kms:ViaService": "secretsmanager.ap-southeast-1.amazonaws.com"}}


def test_roles_are_not_shared_between_processes(stacks: Stacks):
    roles = [role for name in PROCESSES for role in _roles(stacks, name)]
    assert len(roles) == len(set(roles))


def test_github_role_is_assumable_only_from_main_through_oidc(stacks: Stacks):
    roles = stacks.resources("delivery", "AWS::IAM::Role")
    (role,) = roles.values()
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Action"] == "sts:AssumeRoleWithWebIdentity"
    oidc_id, _ = stacks.one("delivery", "AWS::IAM::OIDCProvider")
    assert trust["Principal"] == {"Federated": {"Fn::GetAtt": [oidc_id, "Arn"]}}
    d = stacks.deployment
    assert trust["Condition"]["StringEquals"] == {
        "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
        "token.actions.githubusercontent.com:sub": f"repo:{d.github_repository}:ref:refs/heads/{d.github_branch}",
    }


def test_github_role_pushes_to_its_repository_and_rolls_only_the_three_services(stacks: Stacks):
    (policy,) = stacks.resources("delivery", "AWS::IAM::Policy").values()
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    repo_id, _ = stacks.one("delivery", "AWS::ECR::Repository")
    (push,) = [s for s in statements if "ecr:PutImage" in _actions(s)]
    assert push["Resource"] == {"Fn::GetAtt": [repo_id, "Arn"]}
    (ecs_statement,) = [s for s in statements if "ecs:UpdateService" in _actions(s)]
    d = stacks.deployment
    assert sorted(ecs_statement["Resource"]) == [
        f"arn:aws:ecs:{d.region}:{d.account}:service/{d.cluster_name}/{s}" for s in ("api", "streamer", "worker")
    ]
