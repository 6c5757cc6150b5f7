"""The processes of the one image, what each may reach, how each is probed, and the container that runs it.

Least privilege lives in the PROCESSES table: a process receives only the secrets it names (through
its own execution role) and only the bucket access it names (through its own task role).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from .data import DataStack
from .settings import CONTAINER_PORT, OBJECT_PREFIX, WORK_DIR, Deployment


class BucketAccess(Enum):
    NONE = "none"
    READ = "read"
    READ_WRITE = "read-write"


class Probe(Enum):
    """How ECS checks a long-running process (the app's `tradesim.entrypoints.probe`); one-shots have none."""

    NONE = "none"
    #: GET /healthz on the api's port.
    HTTP = "http"
    #: The heartbeat file the process rewrites every few seconds under its data dir.
    HEARTBEAT = "heartbeat"


@dataclass(frozen=True)
class Process:
    name: str
    command: tuple[str, ...]
    secrets: tuple[str, ...]
    bucket: BucketAccess
    uses_redis: bool
    serves_http: bool = False
    probe: Probe = Probe.NONE
    #: Runs to completion (a scheduled or delivery task), never as a service.
    one_shot: bool = False


PROCESSES = {
    p.name: p
    for p in (
        # The api signs tokens, stores journal images and reads history for charts.
        Process(
            name="api",
            command=("api",),
            secrets=("JWT_SECRET", "DB_PASSWORD", "REDIS_AUTH_TOKEN"),
            bucket=BucketAccess.READ_WRITE,
            uses_redis=True,
            serves_http=True,
            probe=Probe.HTTP,
        ),
        # Workers replay and backtest stored history; they write results to the database only.
        Process(
            name="worker",
            command=("worker",),
            secrets=("DB_PASSWORD", "REDIS_AUTH_TOKEN"),
            bucket=BucketAccess.READ,
            uses_redis=True,
            probe=Probe.HEARTBEAT,
        ),
        # The streamer publishes ticks to Redis and closed candles to the database, never to the bucket.
        Process(
            name="streamer",
            command=("streamer",),
            secrets=("DB_PASSWORD", "REDIS_AUTH_TOKEN", "BYBIT_API_KEY"),
            bucket=BucketAccess.NONE,
            uses_redis=True,
            probe=Probe.HEARTBEAT,
        ),
        # The nightly sync writes Parquet to the bucket and the index row to the database.
        Process(
            name="sync",
            command=("history", "sync"),
            secrets=("DB_PASSWORD", "BYBIT_API_KEY"),
            bucket=BucketAccess.READ_WRITE,
            uses_redis=False,
            one_shot=True,
        ),
        # The delivery runs the schema migration once per release, before it rolls the services.
        Process(
            name="migrate",
            command=("db", "upgrade"),
            secrets=("DB_PASSWORD",),
            bucket=BucketAccess.NONE,
            uses_redis=False,
            one_shot=True,
        ),
    )
}

# Writable scratch under a read-only root: the image declares both as VOLUMEs, so ECS copies their
# ownership (the non-root app user) into the task's bind mounts.
SCRATCH_MOUNTS = {"work": WORK_DIR, "tmp": "/tmp"}  # noqa: S108 (a mount point, not a temp file)


def health_check(process: Process) -> ecs.HealthCheck | None:
    """ECS ignores the image's HEALTHCHECK: the api is probed on its port, the worker and the streamer
    through the heartbeat file they keep (`python -m tradesim.entrypoints.probe`)."""
    if process.probe is Probe.NONE:
        return None
    probe = ["http"] if process.probe is Probe.HTTP else ["heartbeat", process.name]
    return ecs.HealthCheck(
        command=["CMD", "python", "-m", "tradesim.entrypoints.probe", *probe], start_period=Duration.seconds(30)
    )


def environment(process: Process, deployment: Deployment, data: DataStack) -> dict[str, str]:
    env = {
        "ENVIRONMENT": "production",
        "DEBUG": "False",
        "TRADESIM_DATA_DIR": f"{WORK_DIR}/var",
        "TRADESIM_DATABASE_URL": data.database_url,
        "TRADESIM_SYMBOLS": deployment.symbols,
    }
    if process.uses_redis:
        env["TRADESIM_REDIS_URL"] = data.redis_url
    if process.bucket is not BucketAccess.NONE:
        env["TRADESIM_OBJECT_STORE_URL"] = data.object_store_url
    if process.serves_http:
        env |= {"TRADESIM_HTTP_HOST": "0.0.0.0", "TRADESIM_HTTP_PORT": str(CONTAINER_PORT)}  # noqa: S104
    return env


def add_process_container(
    scope: Construct,
    task_definition: ecs.TaskDefinition,
    process: Process,
    *,
    deployment: Deployment,
    data: DataStack,
    image: ecs.ContainerImage,
    cpu: int | None = None,
    memory_limit_mib: int | None = None,
) -> ecs.ContainerDefinition:
    """Put `process` into `task_definition`, and grant its roles exactly what PROCESSES says."""
    log_group = logs.LogGroup(
        scope,
        f"{process.name.capitalize()}Logs",
        log_group_name=f"/tradesim/{deployment.name}/{process.name}",
        retention=logs.RetentionDays.ONE_YEAR,
        encryption_key=data.key,
        removal_policy=RemovalPolicy.RETAIN,
    )
    container = task_definition.add_container(
        process.name,
        image=image,
        command=list(process.command),
        environment=environment(process, deployment, data),
        secrets=ecs_secrets(scope, task_definition, process, data),
        logging=ecs.LogDrivers.aws_logs(stream_prefix=process.name, log_group=log_group),
        readonly_root_filesystem=True,
        cpu=cpu,
        memory_limit_mib=memory_limit_mib,
        stop_timeout=Duration.seconds(60),
        health_check=health_check(process),
        port_mappings=[ecs.PortMapping(container_port=CONTAINER_PORT)] if process.serves_http else None,
    )
    for name, path in SCRATCH_MOUNTS.items():
        task_definition.add_volume(name=name)
        container.add_mount_points(ecs.MountPoint(source_volume=name, container_path=path, read_only=False))

    grant_bucket_prefix(task_definition.task_role, process.bucket, data)
    return container


def ecs_secrets(
    scope: Construct, task_definition: ecs.TaskDefinition, process: Process, data: DataStack
) -> dict[str, ecs.Secret]:
    """The process's secrets as ECS secrets, readable by its execution role alone.

    The secrets are referenced by ARN rather than as the data stack's objects: granting on those
    would write this stack's roles into the data key's policy, a dependency cycle between stacks.
    The key grant is written here instead, usable only through Secrets Manager.
    """
    secrets = {}
    for name in process.secrets:
        secret, field = data.secrets[name]
        ref = secretsmanager.Secret.from_secret_complete_arn(
            scope, f"{process.name.capitalize()}{name}", secret.secret_arn
        )
        secrets[name] = ecs.Secret.from_secrets_manager(ref, field) if field else ecs.Secret.from_secrets_manager(ref)
    task_definition.obtain_execution_role().add_to_principal_policy(
        iam.PolicyStatement(
            actions=["kms:Decrypt"],
            resources=[data.key.key_arn],
            conditions={"StringEquals": {"kms:ViaService": f"secretsmanager.{data.region}.amazonaws.com"}},
        )
    )
    return secrets


def grant_bucket_prefix(role: iam.IRole, access: BucketAccess, data: DataStack) -> None:
    """Objects under the app's prefix only, and the bucket key only when S3 itself asks for it.

    Written out rather than through `bucket.grant_read`, whose s3:List* covers the whole bucket.
    """
    if access is BucketAccess.NONE:
        return
    objects = data.bucket.arn_for_objects(f"{OBJECT_PREFIX}/*")
    object_actions = ["s3:GetObject"]
    key_actions = ["kms:Decrypt"]
    if access is BucketAccess.READ_WRITE:
        object_actions += ["s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
        key_actions += ["kms:GenerateDataKey"]
    role.add_to_principal_policy(iam.PolicyStatement(actions=object_actions, resources=[objects]))
    role.add_to_principal_policy(
        iam.PolicyStatement(
            actions=["s3:ListBucket"],
            resources=[data.bucket.bucket_arn],
            conditions={"StringLike": {"s3:prefix": [f"{OBJECT_PREFIX}/*"]}},
        )
    )
    role.add_to_principal_policy(
        iam.PolicyStatement(
            actions=key_actions,
            resources=[data.key.key_arn],
            conditions={"StringEquals": {"kms:ViaService": f"s3.{data.region}.amazonaws.com"}},
        )
    )
