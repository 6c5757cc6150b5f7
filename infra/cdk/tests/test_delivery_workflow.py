"""The delivery workflow migrates with the candidate image, waits for it, and only then moves the
services' tag and rolls them; one delivery at a time."""

from __future__ import annotations

from pathlib import Path

import yaml

from tradesim_infra.settings import DEPLOYED_SERVICES

from .templates import Stacks

WORKFLOW = Path(__file__).resolve().parents[3] / ".github" / "workflows" / "deliver.yml"


def _deliver() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())["jobs"]["deliver"]


def _step_index(steps: list[dict], needle: str) -> int:
    found = [i for i, step in enumerate(steps) if needle in step.get("run", "")]
    assert len(found) == 1, f"expected one step running {needle!r}, found {len(found)}"
    return found[0]


def test_the_migration_runs_and_is_waited_for_before_the_services_move(stacks: Stacks):
    steps = _deliver()["steps"]
    run_task = _step_index(steps, "aws ecs run-task")
    migration = steps[run_task]["run"]
    # The task definition family the CDK app gives the migration (with the workflow's $DEPLOYMENT).
    family = stacks.deployment.migration_family.replace(stacks.deployment.name, "$DEPLOYMENT")
    assert f'--task-definition "{family}"' in migration
    assert "aws ecs wait tasks-stopped" in migration
    assert "exitCode" in migration
    assert "exit 1" in migration
    promote = _step_index(steps, 'docker push "$image:$DEPLOYMENT"')
    roll = _step_index(steps, "aws ecs update-service")
    assert run_task < promote < roll


def test_the_candidate_tag_is_what_the_migration_task_runs(stacks: Stacks):
    steps = _deliver()["steps"]
    build = steps[_step_index(steps, "docker build")]["run"]
    assert '"$image:$DEPLOYMENT-candidate"' in build
    assert stacks.deployment.candidate_tag == f"{stacks.deployment.name}-candidate"
    assert '"$image:$DEPLOYMENT"' not in build, "the services' tag moves only after the migration"


def test_deliveries_never_overlap_or_cancel_each_other():
    concurrency = _deliver()["concurrency"]
    assert concurrency["cancel-in-progress"] is False
    assert concurrency["group"].startswith("deploy-")


def test_every_service_is_rolled():
    steps = _deliver()["steps"]
    assert all(name in steps[_step_index(steps, "aws ecs update-service")]["run"] for name in DEPLOYED_SERVICES)
