"""The ECS task definitions as the CDK app synthesises them: each container's command, environment
names and values, secret names and health check, read from the Services stack's template."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import attrs

ROOT = Path(__file__).resolve().parents[2]
CDK_APP = ROOT / "infra" / "cdk"
#: The Dockerfile's ENTRYPOINT: a task definition's command is its arguments.
ENTRYPOINT = ("tradesim",)


@attrs.frozen
class TaskContainer:
    family: str
    command: tuple[str, ...]
    #: Name to the template's value: a string, or a CloudFormation expression (an endpoint, a bucket).
    environment: dict[str, Any]
    secrets: tuple[str, ...]
    #: The health check's command without its "CMD", or None for a one-shot task.
    health_check: tuple[str, ...] | None

    @property
    def role(self) -> str:
        return self.family.rsplit("-", 1)[1]


def synthesise(outdir: Path) -> Path:
    """Synthesise the CDK app into `outdir` (its own uv project, as `scripts/check-infra` does)."""
    uv = shutil.which("uv")
    assert uv, "uv is not on PATH: it runs the CDK app's own environment"
    env = {**os.environ, "CDK_OUTDIR": str(outdir), "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
    env.pop("VIRTUAL_ENV", None)  # the app's own venv, not the tests'
    subprocess.run(
        [uv, "run", "--frozen", "--quiet", "python", "app.py"],
        cwd=CDK_APP,
        env=env,
        check=True,
        timeout=600,
        stdout=subprocess.DEVNULL,
    )
    return outdir


def task_containers(outdir: Path, deployment: str) -> dict[str, TaskContainer]:
    """Every task definition of the deployment's Services stack, by role (api, worker, migrate, ...)."""
    template = json.loads((outdir / f"Tradesim-{deployment}-Services.template.json").read_text())
    found = {}
    for resource in template["Resources"].values():
        if resource["Type"] != "AWS::ECS::TaskDefinition":
            continue
        (container,) = resource["Properties"]["ContainerDefinitions"]
        health = container.get("HealthCheck", {}).get("Command")
        if health is not None:
            assert health[0] == "CMD", f"a health check that is not an exec form: {health}"
        task = TaskContainer(
            family=resource["Properties"]["Family"],
            command=tuple(container["Command"]),
            environment={e["Name"]: e["Value"] for e in container.get("Environment", [])},
            secrets=tuple(s["Name"] for s in container.get("Secrets", [])),
            health_check=tuple(health[1:]) if health is not None else None,
        )
        found[task.role] = task
    return found
