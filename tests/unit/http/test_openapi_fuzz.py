"""schemathesis against /openapi.json, in-process over ASGI, authenticated with a real token.

Every generated request (valid and invalid bodies, queries and path ids) must get a documented
status, never a 5xx, with a body that matches the documented schema and content type.
"""

from __future__ import annotations

import asyncio
import itertools
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.core.parameters import ParameterLocation
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from tests.support.candles import walk
from tests.support.strategy_runs import SPECS
from tests.unit.http.conftest import api_container, store_history
from tradesim.entrypoints.http.app import WIRED_MODULES, create_app

CASES_PER_OPERATION = 30
MIN_TOTAL_CASES = 500
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
#: Statuses that count as refusing invalid input: schemathesis' defaults plus 413 (an upload with too many
#: or too large form parts is refused before its content is looked at).
REJECTIONS = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429"]
CONFIG = SchemathesisConfig.from_dict({"checks": {"negative_data_rejection": {"expected-statuses": REJECTIONS}}})
counted = itertools.count()
seen: dict[str, int] = {}


@pytest.fixture
def fuzzed(tmp_path: Path) -> Iterator[dict[str, Any]]:
    # One app per test: schemathesis' pytest plugin ends the app's lifespan after every test, and a
    # Quart app does not start a second one.
    container = api_container(tmp_path)
    container.wire(modules=list(WIRED_MODULES))
    app = create_app(container)
    # A day of history, so that replays can be created and controlled.
    asyncio.run(store_history(container, walk("BTCUSDT", 1_704_067_200_000, 1440)))
    # The catalogue a strategy worker would have published, so that strategy runs can be submitted.
    asyncio.run(container.strategies.board().publish(SPECS))
    with asgi.get_client(app) as client:
        # A user with an account, a resting order, a journal entry and a replay, so ids in paths can hit something.
        client.post("/api/v1/auth/register", json={"email": "fuzz@example.com", "password": "fuzz password"})
        tokens = client.post("/api/v1/auth/login", json={"email": "fuzz@example.com", "password": "fuzz password"})
        headers = {"Authorization": f"Bearer {tokens.json()['accessToken']}"}
        account = client.post("/api/v1/accounts", json={"name": "fuzz"}, headers=headers).json()
        client.post(
            "/api/v1/orders",
            json={
                "accountId": account["accountId"],
                "symbol": "BTCUSDT",
                "side": "Buy",
                "orderType": "Limit",
                "qty": "0.010",
                "price": "20000.0",
            },
            headers=headers,
        )
        client.post("/api/v1/journal", json={"title": "fuzz"}, headers=headers)
        replay = client.post(
            "/api/v1/replays", json={"symbol": "BTCUSDT", "start": 1_704_067_200_000, "speed": "1"}, headers=headers
        )
        assert replay.status_code == 201, replay.text
        run = client.post(
            "/api/v1/strategy-runs",
            json={
                "strategy": "SmaCross",
                "symbol": "BTCUSDT",
                "timeframe": "1h",
                "start": 1_704_067_200_000,
                "end": 1_704_153_600_000,
            },
            headers=headers,
        )
        assert run.status_code == 202, run.text
    yield {"app": app, "headers": headers}
    container.unwire()


def _operations() -> list[str]:
    """Operation labels, read from the document of a throwaway app at collection time."""
    app = create_app(api_container(None))
    spec = app.extensions["QUART_SCHEMA"].openapi_provider.schema()
    return [f"{method.upper()} {path}" for path, ops in spec["paths"].items() for method in ops]


@pytest.fixture
def api_schema(fuzzed: dict[str, Any]) -> Any:
    return schemathesis.openapi.from_asgi("/openapi.json", fuzzed["app"], config=CONFIG)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize("label", _operations())
def test_every_operation_conforms(label: str, mode: GenerationMode, api_schema: Any, fuzzed: dict[str, Any]) -> None:
    method, path = label.split(" ", 1)
    operation = api_schema[path][method].ok() if hasattr(api_schema[path][method], "ok") else api_schema[path][method]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=CASES_PER_OPERATION,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
        # The same cases on every run, so CI is reproducible; FUZZ_RANDOM=1 draws fresh ones to explore more.
        derandomize=not os.environ.get("FUZZ_RANDOM"),
        phases=[Phase.explicit, Phase.generate],
    )
    def run(case: Any) -> None:
        next(counted)
        seen[label] = seen.get(label, 0) + 1
        case.call_and_validate(headers=_auth(case, fuzzed["headers"]), checks=CHECKS)

    try:
        run()
    except Unsatisfiable:
        if mode is GenerationMode.POSITIVE:
            raise
        pytest.skip(f"{label} takes no input that could be invalid")


def _auth(case: Any, headers: dict[str, str]) -> dict[str, str] | None:
    """The real token, unless this case is about bad headers (a missing or malformed Authorization)."""
    header = case.meta.components.get(ParameterLocation.HEADER) if case.meta is not None else None
    if header is not None and header.mode is GenerationMode.NEGATIVE:
        return None
    return headers


def test_enough_cases_were_generated() -> None:
    total = next(counted)
    if total == 0:
        pytest.skip("the fuzz test did not run in this session")
    print(f"schemathesis: {total} generated cases over {len(seen)} operations")
    assert total >= MIN_TOTAL_CASES, (total, seen)
