"""compose.yaml gives each process what its role uses, and runs the migration before them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tradesim.entrypoints.roles import ROLES, SECRETS

COMPOSE = Path(__file__).resolve().parents[2] / "compose.yaml"
#: compose service -> the app's role (the command it runs).
SERVICES = {"migrate": "migrate", "api": "api", "worker": "worker", "streamer": "streamer"}


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    return dict(yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))["services"])


@pytest.mark.parametrize(("service", "role"), sorted(SERVICES.items()))
def test_each_service_gets_exactly_the_secrets_its_role_demands(services: dict[str, Any], service: str, role: str):
    environment = services[service]["environment"]
    assert {name for name in environment if name in SECRETS} == set(ROLES[role].secrets)


@pytest.mark.parametrize("service", ["migrate", "api", "worker", "streamer"])
def test_only_the_processes_that_use_redis_or_objects_get_them(services: dict[str, Any], service: str):
    environment = services[service]["environment"]
    assert ("TRADESIM_REDIS_URL" in environment) == ROLES[SERVICES[service]].needs_redis
    # The streamer writes candles to the database and prices to Redis, never to the object store.
    assert ("TRADESIM_OBJECT_STORE_URL" in environment) == (service in {"api", "worker"})


@pytest.mark.parametrize("service", ["api", "worker", "streamer"])
def test_the_long_running_processes_start_after_the_migration_succeeded(services: dict[str, Any], service: str):
    assert services[service]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    assert services["migrate"]["command"] == ["db", "upgrade"]
    assert services["migrate"]["restart"] == "no"


@pytest.mark.parametrize(("service", "probe"), [("api", ["http"]), ("worker", ["heartbeat", "worker"])])
def test_health_checks_are_the_apps_probe(services: dict[str, Any], service: str, probe: list[str]):
    assert services[service]["healthcheck"]["test"] == ["CMD", "python", "-m", "tradesim.entrypoints.probe", *probe]
