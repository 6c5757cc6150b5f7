"""Task definitions: production settings, secrets only as ECS secrets, URLs without credentials."""

from __future__ import annotations

import pytest

from tradesim_infra.processes import PROCESSES

from .templates import Stacks

SECRET_NAMES = {"JWT_SECRET", "DB_PASSWORD", "BYBIT_API_KEY", "REDIS_AUTH_TOKEN"}

# Which Data-stack secret each environment name must come from.
SECRET_SOURCES = {
    "JWT_SECRET": "JwtSecret",
    "BYBIT_API_KEY": "BybitApiKey",
    "REDIS_AUTH_TOKEN": "RedisAuthToken",
    "DB_PASSWORD": "PostgresSecretAttachment",
}


def _env(container: dict) -> dict:
    return {e["Name"]: e["Value"] for e in container.get("Environment", [])}


@pytest.mark.parametrize("name", sorted(PROCESSES))
def test_every_task_runs_in_production_mode_with_debug_off(stacks: Stacks, name: str):
    env = _env(stacks.container(name))
    assert env["ENVIRONMENT"] == "production"
    assert env["DEBUG"] == "False"


@pytest.mark.parametrize("name", sorted(PROCESSES))
def test_secrets_arrive_only_as_ecs_secrets_each_from_its_own_secret(stacks: Stacks, name: str):
    container = stacks.container(name)
    assert not SECRET_NAMES & set(_env(container)), "a secret name appears as a plain environment value"
    secrets = {s["Name"]: s["ValueFrom"] for s in container["Secrets"]}
    assert set(secrets) == set(PROCESSES[name].secrets)
    for env_name, value_from in secrets.items():
        if env_name == "DB_PASSWORD":
            # The password field of the database's generated JSON secret.
            imported, suffix = value_from["Fn::Join"][1]
            assert suffix == ":password::"
            value_from = imported
        kind, logical = stacks.ref_target(value_from, "services")
        assert kind == "data"
        assert logical.startswith(SECRET_SOURCES[env_name])


def test_database_url_names_the_user_but_carries_no_password(stacks: Stacks):
    parts = _env(stacks.container("api"))["TRADESIM_DATABASE_URL"]["Fn::Join"][1]
    assert parts[0] == "postgresql+asyncpg://tradesim@"
    assert parts[-1] == "/tradesim"
    assert all(isinstance(p, dict) for p in parts[1:-1:2]), "only the endpoint comes from the data stack"


def test_redis_url_uses_tls_and_sync_does_not_get_redis(stacks: Stacks):
    for name, process in PROCESSES.items():
        env = _env(stacks.container(name))
        if process.uses_redis:
            assert env["TRADESIM_REDIS_URL"]["Fn::Join"][1][0] == "rediss://"
        else:
            assert "TRADESIM_REDIS_URL" not in env


def test_api_listens_on_all_interfaces_on_the_target_group_port(stacks: Stacks):
    env = _env(stacks.container("api"))
    assert env["TRADESIM_HTTP_HOST"] == "0.0.0.0"
    assert env["TRADESIM_HTTP_PORT"] == "8000"


@pytest.mark.parametrize(
    ("name", "probe"),
    [("api", ["http"]), ("worker", ["heartbeat", "worker"]), ("streamer", ["heartbeat", "streamer"])],
)
def test_long_running_processes_are_probed_by_the_apps_own_probe(stacks: Stacks, name: str, probe: list[str]):
    command = stacks.container(name)["HealthCheck"]["Command"]
    assert command == ["CMD", "python", "-m", "tradesim.entrypoints.probe", *probe]


@pytest.mark.parametrize("name", ["sync", "migrate"])
def test_one_shot_tasks_have_no_health_check(stacks: Stacks, name: str):
    assert "HealthCheck" not in stacks.container(name)


def test_the_migration_task_runs_db_upgrade_with_the_database_alone(stacks: Stacks):
    container = stacks.container("migrate")
    assert container["Command"] == ["db", "upgrade"]
    assert {s["Name"] for s in container["Secrets"]} == {"DB_PASSWORD"}
    env = _env(container)
    assert "TRADESIM_REDIS_URL" not in env
    assert "TRADESIM_OBJECT_STORE_URL" not in env
    _, task = stacks.task_definition("migrate")
    assert task["Properties"]["Family"] == stacks.deployment.migration_family


def test_the_deploy_role_may_run_the_migration_task_and_nothing_else(stacks: Stacks):
    (policy,) = [
        p
        for p in stacks.resources("services", "AWS::IAM::Policy").values()
        if p["Properties"]["Roles"] == [stacks.deployment.deploy_role_name]
    ]
    statements = {s["Action"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"]}
    assert set(statements) == {"ecs:RunTask", "ecs:DescribeTasks", "iam:PassRole"}
    run = statements["ecs:RunTask"]
    assert stacks.deployment.migration_family in str(run["Resource"])
    assert "ecs:cluster" in run["Condition"]["ArnEquals"]
    assert statements["iam:PassRole"]["Condition"] == {
        "StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}
    }


@pytest.mark.parametrize("name", sorted(PROCESSES))
def test_containers_have_a_read_only_root_and_scratch_volumes_only(stacks: Stacks, name: str):
    container = stacks.container(name)
    assert container["ReadonlyRootFilesystem"] is True
    assert {m["ContainerPath"] for m in container["MountPoints"]} == {"/srv/tradesim", "/tmp"}
    # The migration runs the image being delivered; the services move to it once it succeeded.
    tag = stacks.deployment.candidate_tag if name == "migrate" else stacks.deployment.image_tag
    assert container["Image"]["Fn::Join"][1][-1] == f":{tag}"
