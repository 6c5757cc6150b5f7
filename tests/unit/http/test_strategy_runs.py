"""Strategy runs on the api: the catalogue, submitting, reading, cancelling, the socket topic, and refusals.

The api runs over in-memory adapters; the catalogue is what a worker would have published, and
the container's own strategy-run worker runs in-process on a scripted backtester (no Jesse here:
`tests/integration/test_strategy_runs.py` runs the real one in worker processes).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import attrs
import pytest

from tests.support.candles import walk
from tests.support.strategy_runs import SPECS, ScriptedBacktester
from tests.unit.http.conftest import T0, Api, api_container, running_api
from tests.waiting import until
from tradesim.adapters.memory.clock import FixedClock
from tradesim.domain.bars import day_start_ms
from tradesim.entrypoints.http.app import ApiOptions

DAY0 = date(2024, 2, 1)
START = day_start_ms(DAY0)
END = START + 86_400_000


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[Api]:
    clock = FixedClock(T0)
    async with running_api(api_container(tmp_path, clock=clock), clock, ApiOptions(rate_limits=False)) as api:
        await api.container.strategies.board().publish(SPECS)
        await api.history(walk("BTCUSDT", START, 1440))
        yield api


@contextlib.asynccontextmanager
async def worker(api: Api, backtester: ScriptedBacktester) -> AsyncIterator[None]:
    stop = asyncio.Event()
    runner = api.container.strategies.worker(backtester=lambda: backtester)
    task = asyncio.create_task(runner.run(stop))
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, 5)


def body(**changes: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {"strategy": "SmaCross", "symbol": "BTCUSDT", "timeframe": "1h", "start": START}
    return {**fields, "end": END, **changes}


async def submit(api: Api, headers: dict[str, str], **changes: Any) -> dict[str, Any]:
    response = await api.client.post("/api/v1/strategy-runs", json=body(**changes), headers=headers)
    assert response.status_code == 202, await response.get_data()
    return await response.get_json()


async def get(api: Api, headers: dict[str, str], path: str) -> Any:
    response = await api.client.get(path, headers=headers)
    assert response.status_code == 200, await response.get_data()
    return await response.get_json()


async def test_the_catalogue_lists_what_the_workers_loaded(api: Api) -> None:
    headers = await api.user("a@example.com")
    listed = (await get(api, headers, "/api/v1/strategies"))["list"]
    assert listed[0] == {
        "name": "SmaCross",
        "source": "builtin",
        "timeframes": ["1m", "5m", "15m", "30m", "1h", "4h", "1D"],
        "hyperparameters": [{"name": "fast", "type": "int", "min": 2, "max": 100, "default": 10, "options": None}],
        "error": None,
    }
    assert listed[1]["error"].startswith("SyntaxError")
    assert (await api.client.get("/api/v1/strategies")).status_code == 401


async def test_a_run_is_queued_run_by_a_worker_and_its_result_served(api: Api) -> None:
    headers = await api.user("a@example.com")
    created = await submit(api, headers, hyperparameters={"fast": "12"}, startingBalance="2500", leverage=2)
    run_id = created["runId"]
    assert {k: created[k] for k in ("status", "progress", "strategy", "symbol", "timeframe", "start", "end")} == {
        "status": "queued",
        "progress": "0",
        "strategy": "SmaCross",
        "symbol": "BTCUSDT",
        "timeframe": "1h",
        "start": START,
        "end": END,
    }
    assert (created["hyperparameters"], created["startingBalance"], created["leverage"]) == ({"fast": 12}, "2500", 2)
    backtester = ScriptedBacktester()
    backtester.release.set()
    async with worker(api, backtester):
        done = await until(lambda: _finished(api, headers, run_id), 5, what="the run to finish")
    assert (done["status"], done["progress"], done["error"]) == ("finished", "1", None)
    assert done["metrics"] == {"total": "2"}
    assert (done["trades"], done["equityCurve"]) == ([], [[1_706_745_600_000, "10000"]])
    listed = (await get(api, headers, "/api/v1/strategy-runs"))["list"]
    assert [r["runId"] for r in listed] == [run_id]


async def _finished(api: Api, headers: dict[str, str], run_id: str) -> dict[str, Any] | None:
    run = await get(api, headers, f"/api/v1/strategy-runs/{run_id}")
    return run if run["status"] == "finished" else None


async def test_the_socket_topic_pushes_progress_then_the_result_to_the_owner_only(api: Api) -> None:
    alice, bob = await api.user("a@example.com"), await api.user("b@example.com")
    run_id = (await submit(api, alice))["runId"]
    bob_token = bob["Authorization"].removeprefix("Bearer ")
    async with api.client.websocket(f"/ws?token={bob_token}") as ws:
        await _next(ws)
        await ws.send(json.dumps({"op": "subscribe", "args": [f"strategy-run.{run_id}"], "req_id": "b"}))
        refused = await _next(ws)
        assert (refused["success"], refused["ret_msg"]) == (False, f"unknown topic(s): strategy-run.{run_id}")
    backtester = ScriptedBacktester(steps=2)
    token = alice["Authorization"].removeprefix("Bearer ")
    async with api.client.websocket(f"/ws?token={token}") as ws:
        await _next(ws)
        await ws.send(json.dumps({"op": "subscribe", "args": [f"strategy-run.{run_id}"], "req_id": "a"}))
        assert (await _next(ws))["success"] is True
        async with worker(api, backtester):
            pushes = [await _next(ws)]
            backtester.release.set()
            while pushes[-1]["data"]["status"] != "finished":
                pushes.append(await _next(ws))
    assert {p["topic"] for p in pushes} == {f"strategy-run.{run_id}"}
    assert pushes[0]["data"]["status"] == "running"
    assert pushes[-1]["data"]["metrics"] == {"total": "2"}
    progress = [p["data"]["progress"] for p in pushes]
    assert progress == sorted(progress, key=float)
    assert api.container.api.strategy_run_feed().following == set()


async def _next(ws: Any) -> dict[str, Any]:
    async with asyncio.timeout(5.0):
        return json.loads(await ws.receive())


async def test_cancelling_stops_a_run_and_an_ended_run_cannot_be_cancelled(api: Api) -> None:
    headers = await api.user("a@example.com")
    queued = (await submit(api, headers))["runId"]
    cancelled = await api.client.delete(f"/api/v1/strategy-runs/{queued}", headers=headers)
    assert cancelled.status_code == 200
    assert (await cancelled.get_json())["status"] == "cancelled"
    again = await api.client.delete(f"/api/v1/strategy-runs/{queued}", headers=headers)
    assert again.status_code == 409
    assert (await again.get_json())["error"]["code"] == "RUN_NOT_ACTIVE"

    running = (await submit(api, headers))["runId"]
    backtester = ScriptedBacktester()
    async with worker(api, backtester):
        await until(lambda: _status(api, headers, running, "running"), 5, what="the run to start")
        response = await api.client.delete(f"/api/v1/strategy-runs/{running}", headers=headers)
        assert response.status_code == 200
        await until(lambda: backtester.aborted > 0, 5, what="the backtest to be aborted")
    assert (await get(api, headers, f"/api/v1/strategy-runs/{running}"))["status"] == "cancelled"


async def _status(api: Api, headers: dict[str, str], run_id: str, status: str) -> bool:
    return bool((await get(api, headers, f"/api/v1/strategy-runs/{run_id}"))["status"] == status)


@pytest.mark.parametrize(
    ("changes", "status", "code", "message"),
    [
        ({"strategy": "Nope"}, 422, "UNKNOWN_STRATEGY", "unknown strategy 'Nope'"),
        ({"strategy": "Broken"}, 400, "BROKEN_STRATEGY", "strategy Broken cannot run"),
        ({"timeframe": "2h"}, 400, "UNKNOWN_TIMEFRAME", "unknown timeframe '2h'"),
        ({"hyperparameters": {"fast": 1000}}, 400, "BAD_HYPERPARAMETER", "fast of SmaCross must be between 2 and 100"),
        ({"hyperparameters": {"fast": "ten"}}, 400, "BAD_HYPERPARAMETER", "fast of SmaCross must be an integer"),
        ({"hyperparameters": {"fast": True}}, 400, "BAD_HYPERPARAMETER", "fast of SmaCross must be an integer"),
        ({"end": START - 60_000}, 400, "INVALID_INPUT", "end must be after start"),
        ({"start": END, "end": END + 86_400_000}, 422, "NO_HISTORY", "no BTCUSDT history is stored"),
        ({"symbol": "DOGEUSDT"}, 422, "UNKNOWN_SYMBOL", "DOGEUSDT"),
        ({"start": "yesterday"}, 400, None, "start"),
    ],
)
async def test_bad_input_gets_a_named_4xx_and_stores_nothing(
    api: Api, changes: dict[str, Any], status: int, code: str | None, message: str
) -> None:
    headers = await api.user("a@example.com")
    before = attrs.asdict(api.container.persistence.memory_database().tables, recurse=False)
    response = await api.client.post("/api/v1/strategy-runs", json=body(**changes), headers=headers)
    assert response.status_code == status, await response.get_data()
    error = (await response.get_json())["error"]
    assert message in error["message"]
    if code is not None:
        assert error["code"] == code
    assert attrs.asdict(api.container.persistence.memory_database().tables, recurse=False) == before


async def test_another_user_s_run_is_not_found(api: Api) -> None:
    alice, bob = await api.user("a@example.com"), await api.user("b@example.com")
    run_id = (await submit(api, alice))["runId"]
    for method in ("GET", "DELETE"):
        response = await api.client.open(f"/api/v1/strategy-runs/{run_id}", method=method, headers=bob)
        assert response.status_code == 404
        assert (await response.get_json())["error"]["code"] == "NOT_FOUND"
    assert (await get(api, bob, "/api/v1/strategy-runs"))["list"] == []
    assert (await get(api, alice, f"/api/v1/strategy-runs/{run_id}"))["status"] == "queued"


async def test_no_run_is_accepted_before_a_strategy_worker_started(tmp_path: Path) -> None:
    clock = FixedClock(T0)
    async with running_api(api_container(tmp_path, clock=clock), clock, ApiOptions(rate_limits=False)) as api:
        headers = await api.user("a@example.com")
        for response in (
            await api.client.get("/api/v1/strategies", headers=headers),
            await api.client.post("/api/v1/strategy-runs", json=body(), headers=headers),
        ):
            assert response.status_code == 503
            assert (await response.get_json())["error"]["code"] == "NO_STRATEGY_WORKER"


async def test_the_routes_are_in_the_openapi_document(api: Api) -> None:
    document = await (await api.client.get("/openapi.json")).get_json()
    paths = document["paths"]
    assert set(paths["/api/v1/strategy-runs"]) >= {"get", "post"}
    assert set(paths["/api/v1/strategy-runs/{run_id}"]) >= {"get", "delete"}
    assert "get" in paths["/api/v1/strategies"]
