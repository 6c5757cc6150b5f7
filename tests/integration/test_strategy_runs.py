"""Strategy backtest runs end to end: real `tradesim api` and `tradesim worker` processes (Jesse in the
workers' backtest child) over real PostgreSQL and Redis, on stored Parquet history.

History: synthetic 1m candles (`tests.support.candles.walk`) written as the object store's day
files, as `tradesim history backfill` would. The fault test kills a worker with SIGKILL once its
run has reported progress; a second worker takes the run over when the lease lapses and restarts
it; the result equals that of an uninterrupted run of the same job.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import connect

from tests.support.candles import walk
from tests.support.realtime import Stack, Trader, running_stack, stored
from tests.waiting import until, wait_for
from tradesim.adapters.localfs.stores import local_candle_store
from tradesim.domain.bars import day_start_ms

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DAY0 = date(2024, 2, 1)
DAYS = 12
DAY_MS = 86_400_000
START = day_start_ms(DAY0 + timedelta(days=1))
#: Loading Jesse in a worker's backtest child takes seconds (more on a busy machine).
READY_S = 180.0
RUN_S = 300.0


@pytest.fixture
def stack(database_url: str, redis_url: str, tmp_path: Path) -> Iterator[Stack]:
    data_dir = tmp_path / "var"
    store = local_candle_store(data_dir / "objects")
    candles = walk("BTCUSDT", day_start_ms(DAY0), DAYS * 1440, seed=4)
    for day in range(DAYS):
        asyncio.run(store.write_day("BTCUSDT", DAY0 + timedelta(days=day), candles[day * 1440 : (day + 1) * 1440]))
    environment = {
        "TRADESIM_STRATEGY_RUNS": "1",
        "TRADESIM_WORKER_LEASE_TTL_MS": "3000",
        "JESSE_CACHE_DIR": str(tmp_path / "jesse-cache"),
    }
    with running_stack(Stack(database_url, redis_url, data_dir, extra_env=environment)) as running:
        yield running


def _catalogue_ready(trader: Trader) -> bool:
    answer = trader.client.get("/api/v1/strategies")
    return answer.status_code == 200 and any(s["name"] == "SmaCross" for s in answer.json()["list"])


def _submit(trader: Trader, **changes: Any) -> Any:
    body = {"strategy": "SmaCross", "symbol": "BTCUSDT", "timeframe": "1h", "start": START, "end": START + 2 * DAY_MS}
    return trader.client.post("/api/v1/strategy-runs", json={**body, **changes})


def _run(trader: Trader, run_id: str) -> dict[str, Any]:
    answer = trader.client.get(f"/api/v1/strategy-runs/{run_id}")
    answer.raise_for_status()
    return dict(answer.json())


def _ended(trader: Trader, run_id: str) -> dict[str, Any] | None:
    run = _run(trader, run_id)
    return run if run["status"] in ("finished", "failed", "cancelled") else None


def _progressed(trader: Trader, run_id: str) -> dict[str, Any] | None:
    run = _run(trader, run_id)
    assert run["status"] in ("queued", "running"), run
    return run if run["status"] == "running" and float(run["progress"]) > 0 else None


def test_runs_are_queued_run_by_a_worker_pushed_on_the_socket_cancelled_and_refused(stack: Stack) -> None:
    api = stack.api()
    stack.worker()
    alice, bob = Trader(api.base_url, "alice@example.com"), Trader(api.base_url, "bob@example.com")
    wait_for(lambda: _catalogue_ready(alice), READY_S, "the worker to publish its strategy catalogue")

    # Each bad input gets its named 4xx, and nothing is stored.
    refusals = [
        ({"strategy": "Nope"}, 422, "UNKNOWN_STRATEGY"),
        ({"timeframe": "3m"}, 400, "UNKNOWN_TIMEFRAME"),
        ({"hyperparameters": {"fast": 1}}, 400, "BAD_HYPERPARAMETER"),
        ({"hyperparameters": {"fast": "fast"}}, 400, "BAD_HYPERPARAMETER"),
        ({"end": START - DAY_MS}, 400, "INVALID_INPUT"),
        ({"start": START + 100 * DAY_MS, "end": START + 101 * DAY_MS}, 422, "NO_HISTORY"),
    ]
    for changes, status, code in refusals:
        answer = _submit(alice, **changes)
        assert (answer.status_code, answer.json()["error"]["code"]) == (status, code), answer.text
    assert alice.client.get("/api/v1/strategy-runs").json()["list"] == []

    created = _submit(alice, hyperparameters={"fast": 5, "slow": 20})
    assert created.status_code == 202, created.text
    run_id = created.json()["runId"]
    pushes: list[dict[str, Any]] = []
    with connect(alice.ws_url(), open_timeout=10) as ws:
        json.loads(ws.recv(timeout=10))  # the auth answer
        ws.send(json.dumps({"op": "subscribe", "args": [f"strategy-run.{run_id}"]}))
        assert json.loads(ws.recv(timeout=10))["success"] is True
        while not pushes or pushes[-1]["data"]["status"] not in ("finished", "failed"):
            pushes.append(json.loads(ws.recv(timeout=RUN_S)))
    final = pushes[-1]["data"]
    assert final["status"] == "finished", final
    assert int(final["metrics"]["total"]) == len(final["trades"])
    assert final["metrics"]["starting_balance"] == "10000"
    assert final["equityCurve"][-1][1] == final["metrics"]["finishing_balance"]
    assert _run(alice, run_id) == final

    # Someone else's run is as unknown as a missing one.
    assert bob.client.get(f"/api/v1/strategy-runs/{run_id}").status_code == 404
    assert bob.client.delete(f"/api/v1/strategy-runs/{run_id}").status_code == 404
    assert bob.client.get("/api/v1/strategy-runs").json()["list"] == []

    # A long run, cancelled while it runs.
    long_run = _submit(alice, timeframe="1m", end=START + 10 * DAY_MS).json()["runId"]
    wait_for(lambda: _progressed(alice, long_run), RUN_S, "the long run to report progress")
    cancelled = alice.client.delete(f"/api/v1/strategy-runs/{long_run}")
    assert (cancelled.status_code, cancelled.json()["status"]) == (200, "cancelled")
    ended = wait_for(lambda: _ended(alice, long_run), 30, "the cancelled run to stay ended")
    assert (ended["status"], ended.get("metrics")) == ("cancelled", None)
    # The worker let it go: free for the next run at once.
    asyncio.run(_lease_released(stack.database_url, long_run))


async def _lease_released(database_url: str, run_id: str) -> None:
    async def released() -> bool:
        async with stored(database_url) as uow:
            run = await uow.strategy_runs.get(run_id)
        return run is not None and run.owner == ""

    await until(released, 30, what=f"the lease of {run_id} to be released")


def test_a_run_whose_worker_is_killed_is_restarted_elsewhere_with_the_same_result(stack: Stack) -> None:
    api = stack.api()
    workers = {process.pid: process for process in (stack.worker(), stack.worker())}
    trader = Trader(api.base_url, "carol@example.com")
    wait_for(lambda: _catalogue_ready(trader), READY_S, "the workers to publish their strategy catalogue")
    # As long as the cancelled run above: a shorter one can end between two looks, on a quick machine,
    # before the test could kill its worker.
    job = {"timeframe": "1m", "end": START + 10 * DAY_MS, "hyperparameters": {"fast": 8}}
    # Two runs of one job: each worker takes one (a worker runs one at a time).
    baseline_id = _submit(trader, **job).json()["runId"]
    run_id = _submit(trader, **job).json()["runId"]

    wait_for(lambda: _progressed(trader, run_id), RUN_S, "the run to report progress", every=0.05)
    holder = asyncio.run(_owner(stack.database_url, run_id))
    victim = workers[int(holder.rsplit(":", 1)[1])]
    victim.kill9()

    baseline = wait_for(lambda: _ended(trader, baseline_id), RUN_S, "the uninterrupted run to end")
    done = wait_for(lambda: _ended(trader, run_id), RUN_S, "the surviving worker to finish the run")
    assert (baseline["status"], done["status"]) == ("finished", "finished"), (baseline, done)
    assert asyncio.run(_owner(stack.database_url, run_id)) == ""
    assert int(done["metrics"]["total"]) > 0
    for key in ("metrics", "trades", "equityCurve"):
        assert done[key] == baseline[key], key


async def _owner(database_url: str, run_id: str) -> str:
    """Who holds the run's lease (`host:pid` of a worker), "" for nobody."""
    async with stored(database_url) as uow:
        run = await uow.strategy_runs.get(run_id)
    assert run is not None
    return run.owner
