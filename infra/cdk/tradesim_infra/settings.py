"""Per-deployment settings, read from the `tradesim:deployments` context in cdk.json."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CONTEXT_KEY = "tradesim:deployments"
CDK_JSON = Path(__file__).resolve().parent.parent / "cdk.json"

# Layout of the single image (see the repo's Dockerfile): the app runs as this user in this
# directory, which is also where the embedded defaults would write.
CONTAINER_PORT = 8000
WORK_DIR = "/srv/tradesim"

# Every key the tasks may read in the bucket lives under this prefix (TRADESIM_OBJECT_STORE_URL).
OBJECT_PREFIX = "tradesim"

# The long-running ECS services, by the names the workflow rolls (`aws ecs update-service --service`);
# the first one's network configuration is the one the migration task runs with.
DEPLOYED_SERVICES = ("api", "worker", "streamer")

# CloudWatch metric the api publishes with its open WebSocket count.
WEBSOCKET_METRIC = {"namespace": "Tradesim", "metric_name": "ActiveWebSockets", "dimensions": {"Service": "api"}}


@dataclass(frozen=True)
class TaskRange:
    min: int
    max: int


@dataclass(frozen=True)
class Deployment:
    """One deployed copy of tradesim: an account and region with its own network, data and services."""

    name: str
    account: str
    region: str
    availability_zones: tuple[str, str, str]
    certificate_arn: str
    github_repository: str
    github_branch: str
    multi_az: bool
    nat_gateways: int
    api_tasks: TaskRange
    worker_tasks: int
    symbols: str

    @property
    def is_production(self) -> bool:
        return self.name == "production"

    @property
    def cluster_name(self) -> str:
        return f"tradesim-{self.name}"

    @property
    def image_tag(self) -> str:
        # The workflow moves this tag to a new image once its migration succeeded, then forces a
        # new deployment of every service.
        return self.name

    @property
    def candidate_tag(self) -> str:
        # The image being delivered, before its migration ran: what the migration task runs. The
        # services never use it, so a failed migration leaves them (and their restarts) as they were.
        return f"{self.name}-candidate"

    @property
    def deploy_role_name(self) -> str:
        """The role the delivery workflow assumes (it builds the ARN from this name)."""
        return f"tradesim-{self.name}-github-deploy"

    @property
    def migration_family(self) -> str:
        """The task definition family the workflow runs (`aws ecs run-task`) before it rolls the services."""
        return f"tradesim-{self.name}-migrate"

    @classmethod
    def from_context(cls, name: str, raw: dict[str, Any]) -> Deployment:
        zones = tuple(raw["availabilityZones"])
        if len(zones) != 3 or len(set(zones)) != 3:
            raise ValueError(f"deployment {name!r} must pin exactly three distinct availability zones, got {zones}")
        if not all(zone.startswith(raw["region"]) for zone in zones):
            raise ValueError(f"deployment {name!r}: availability zones {zones} are not all in {raw['region']}")
        return cls(
            name=name,
            account=str(raw["account"]),
            region=raw["region"],
            availability_zones=zones,  # type: ignore[arg-type]
            certificate_arn=raw["certificateArn"],
            github_repository=raw["githubRepository"],
            github_branch=raw["githubBranch"],
            multi_az=bool(raw["multiAz"]),
            nat_gateways=int(raw["natGateways"]),
            api_tasks=TaskRange(**raw["apiTasks"]),
            worker_tasks=int(raw["workerTasks"]),
            symbols=raw["symbols"],
        )


def cdk_json_context() -> dict[str, Any]:
    """The context block of cdk.json, so that `python app.py` and the tests see what `cdk synth` sees."""
    return json.loads(CDK_JSON.read_text())["context"]


def deployments(context: dict[str, Any]) -> list[Deployment]:
    return [Deployment.from_context(name, raw) for name, raw in context[CONTEXT_KEY].items()]
