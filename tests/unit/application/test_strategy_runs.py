"""Strategy runs, the api's side and the worker's loop, on in-memory adapters and a scripted backtester."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator
from datetime import date
from decimal import Decimal
from typing import Any

import attrs
import pytest

from tests.support.candles import walk
from tests.support.strategy_runs import RESULT, SPECS, ScriptedBacktester
from tests.waiting import until
from tradesim.adapters.memory.clock import FixedClock
from tradesim.adapters.memory.storage import MemoryCandleStore
from tradesim.adapters.memory.strategy_runs import MemoryStrategyCatalogueBoard, MemoryStrategyRunUpdates
from tradesim.adapters.memory.tables import MemoryDatabase
from tradesim.adapters.memory.unit_of_work import MemoryUnitOfWork
from tradesim.application.limits import Quota, QuotaExceeded
from tradesim.application.published_strategies import NoStrategyWorker, UnknownStrategy
from tradesim.application.strategy_run_worker import StrategyRunWorker
from tradesim.application.strategy_runs import StrategyRunService, run_json
from tradesim.domain import default_catalog
from tradesim.domain.bars import day_start_ms
from tradesim.domain.errors import InvalidInput, NotFound, UnknownSymbol
from tradesim.domain.replay_session import NoHistory
from tradesim.domain.strategy_runs import RunNotActive, RunStatus, StrategyRun
from tradesim.domain.strategy_specs import BadHyperparameter, StrategySpec, UnknownTimeframe

DAY0 = date(2024, 2, 1)
START = day_start_ms(DAY0)
END = START + 86_400_000
T0 = START + 30 * 86_400_000


@attrs.define
class World:
    database: MemoryDatabase
    clock: FixedClock
    board: MemoryStrategyCatalogueBoard
    updates: MemoryStrategyRunUpdates
    candles: MemoryCandleStore
    service: StrategyRunService

    def uow(self) -> MemoryUnitOfWork:
        return MemoryUnitOfWork(self.database)

    async def stored(self, run_id: str) -> StrategyRun:
        async with self.uow() as uow:
            run = await uow.strategy_runs.get(run_id)
        assert run is not None
        return run

    def worker(self, backtester: ScriptedBacktester, owner: str = "worker-a", **options: Any) -> StrategyRunWorker:
        return StrategyRunWorker(
            self.uow,
            lambda: backtester,
            self.board,
            self.updates,
            self.clock,
            owner=owner,
            lease_ms=10_000,
            idle_s=0.005,
            tick_s=0.002,
            save_every_s=0.0,
            **options,
        )


@pytest.fixture
async def world() -> World:
    database, clock = MemoryDatabase(), FixedClock(T0)
    board, candles = MemoryStrategyCatalogueBoard(), MemoryCandleStore()
    await board.publish(SPECS)
    await candles.write_day("BTCUSDT", DAY0, walk("BTCUSDT", START, 1440))
    counter = itertools.count(1)
    service = StrategyRunService(
        lambda: MemoryUnitOfWork(database),
        board,
        candles,
        default_catalog(),
        clock,
        lambda: f"run-{next(counter)}",
        quota=Quota("strategy runs queued or running", 2, "TRADESIM_MAX_STRATEGY_RUNS_PER_USER"),
    )
    return World(database, clock, board, MemoryStrategyRunUpdates(), candles, service)


async def submit(world: World, user: str = "user-1", **changes: Any) -> StrategyRun:
    fields: dict[str, Any] = {"strategy": "SmaCross", "symbol": "btcusdt", "timeframe": "5m", "start": START}
    fields["end"] = END
    fields.update(changes)
    return await world.service.submit(user, **fields)


async def test_a_submitted_run_is_queued_with_typed_hyperparameters(world: World) -> None:
    run = await submit(world, hyperparameters={"fast": "12"}, starting_balance="2500.5", leverage=3)
    assert (run.status, run.symbol, run.hyperparameters) == (RunStatus.QUEUED, "BTCUSDT", {"fast": 12})
    assert (run.starting_balance, run.leverage) == (Decimal("2500.5"), 3)
    assert await world.service.get("user-1", run.run_id) == run
    assert [r.run_id for r in await world.service.list("user-1")] == [run.run_id]
    body = run_json(run)
    assert (body["status"], body["progress"], body["start"], body["end"]) == ("queued", "0", START, END)
    assert "metrics" not in body


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        ({"strategy": "Nope"}, UnknownStrategy, "unknown strategy 'Nope'; known: SmaCross"),
        ({"strategy": "Broken"}, InvalidInput, "strategy Broken cannot run: SyntaxError"),
        ({"timeframe": "2h"}, UnknownTimeframe, "unknown timeframe '2h'"),
        ({"hyperparameters": {"fast": 500}}, BadHyperparameter, "fast of SmaCross must be between 2 and 100"),
        ({"hyperparameters": {"fast": "x"}}, BadHyperparameter, "fast of SmaCross must be an integer; got 'x'"),
        ({"hyperparameters": {"slow": 5}}, BadHyperparameter, "SmaCross has no hyperparameter 'slow'"),
        ({"end": START}, InvalidInput, "end must be after start"),
        ({"end": START - 1}, InvalidInput, "end must be after start"),
        ({"symbol": "DOGEUSDT"}, UnknownSymbol, "unknown linear symbol 'DOGEUSDT'"),
        ({"leverage": 1000}, InvalidInput, "leverage must be between 1 and"),
        ({"starting_balance": "0"}, InvalidInput, "startingBalance must be positive"),
        ({"start": END, "end": END + 86_400_000}, NoHistory, "no BTCUSDT history is stored between 2024-02-02"),
    ],
)
async def test_bad_input_is_refused_by_name_and_stores_nothing(
    world: World, changes: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        await submit(world, **changes)
    assert await world.service.list("user-1") == []


async def test_nothing_is_accepted_before_a_worker_published_its_catalogue(world: World) -> None:
    service = StrategyRunService(
        world.uow, MemoryStrategyCatalogueBoard(), world.candles, default_catalog(), world.clock, lambda: "run-x"
    )
    with pytest.raises(NoStrategyWorker, match="no strategy worker is running yet"):
        await service.strategies()
    with pytest.raises(NoStrategyWorker):
        await service.submit("user-1", "SmaCross", "BTCUSDT", "5m", START, END)


async def test_a_user_sees_only_their_runs_and_holds_at_most_the_quota_active(world: World) -> None:
    first = await submit(world)
    await submit(world)
    with pytest.raises(QuotaExceeded, match="at most 2 strategy runs queued or running"):
        await submit(world)
    with pytest.raises(NotFound):
        await world.service.get("user-2", first.run_id)
    with pytest.raises(NotFound):
        await world.service.cancel("user-2", first.run_id)
    assert await world.service.list("user-2") == []
    cancelled = await world.service.cancel("user-1", first.run_id)
    assert cancelled.status is RunStatus.CANCELLED
    assert (await world.stored(first.run_id)).status is RunStatus.CANCELLED
    with pytest.raises(RunNotActive, match="is cancelled already"):
        await world.service.cancel("user-1", first.run_id)
    await submit(world)  # a cancelled run frees its place


@contextlib.asynccontextmanager
async def running(worker: StrategyRunWorker) -> AsyncIterator[asyncio.Event]:
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        yield stop
    finally:
        stop.set()
        await asyncio.wait_for(task, 5)


async def test_a_worker_publishes_its_catalogue_runs_a_queued_run_and_stores_the_result(world: World) -> None:
    world.board = MemoryStrategyCatalogueBoard()  # this worker publishes it
    backtester = ScriptedBacktester()
    backtester.release.set()
    run = await submit(world, hyperparameters={"fast": 7})
    pushes = world.updates.subscribe(run.run_id)
    async with running(world.worker(backtester)):
        await until(world.board.read, 5, what="the catalogue to be published")
        await until(lambda: _status(world, run.run_id, RunStatus.FINISHED), 5, what="the run to finish")
    stored = await world.stored(run.run_id)
    assert stored.result == dict(RESULT, params={"fast": 7})
    assert (stored.progress, stored.owner, stored.lease_until) == (Decimal(1), "", 0)
    assert backtester.jobs[0].params == {"fast": 7}
    assert backtester.closed
    seen = await _drain(pushes)
    assert seen[0]["data"]["status"] == "running"
    assert seen[-1]["topic"] == f"strategy-run.{run.run_id}"
    assert (seen[-1]["data"]["status"], seen[-1]["data"]["metrics"]) == ("finished", {"total": "2"})


async def test_cancelling_a_running_run_aborts_its_backtest(world: World) -> None:
    backtester = ScriptedBacktester()
    run = await submit(world)
    async with running(world.worker(backtester)):
        await until(lambda: _status(world, run.run_id, RunStatus.RUNNING), 5, what="the run to start")
        await world.service.cancel("user-1", run.run_id)
        await until(lambda: backtester.aborted > 0, 5, what="the backtest to be aborted")
        await until(lambda: _released(world, run.run_id), 5, what="the worker to let the run go")
    assert (await world.stored(run.run_id)).status is RunStatus.CANCELLED


async def _released(world: World, run_id: str) -> bool:
    return (await world.stored(run_id)).owner == ""


async def test_a_failing_strategy_fails_its_run_with_the_error(world: World) -> None:
    backtester = ScriptedBacktester(fail="SmaCross.should_long raised ZeroDivisionError (line 12)")
    backtester.release.set()
    run = await submit(world)
    async with running(world.worker(backtester)):
        await until(lambda: _status(world, run.run_id, RunStatus.FAILED), 5, what="the run to fail")
    assert (await world.stored(run.run_id)).error == "SmaCross.should_long raised ZeroDivisionError (line 12)"


async def test_a_run_whose_worker_vanished_is_restarted_by_another_after_its_lease(world: World) -> None:
    run = await submit(world)
    async with world.uow() as uow:  # a worker took it, got half way, and died
        assert await uow.strategy_runs.claim(run.run_id, "dead-worker", T0, T0 + 10_000)
        assert await uow.strategy_runs.save(run.started(T0).advanced(Decimal("0.5"), T0), "dead-worker")
        await uow.commit()
    backtester = ScriptedBacktester()
    async with running(world.worker(backtester, owner="worker-b")):
        world.clock.advance(10_000)  # its lease lapses
        await until(lambda: len(backtester.jobs) == 1, 5, what="the run to be taken over")
        assert (await world.stored(run.run_id)).progress == 0  # restarted from the beginning
        backtester.release.set()
        await until(lambda: _status(world, run.run_id, RunStatus.FINISHED), 5, what="the run to finish")
    assert (await world.stored(run.run_id)).result is not None


async def test_a_stopping_worker_gives_its_run_up_at_once(world: World) -> None:
    backtester = ScriptedBacktester()
    run = await submit(world)
    async with running(world.worker(backtester)):
        await until(lambda: _status(world, run.run_id, RunStatus.RUNNING), 5, what="the run to start")
    stored = await world.stored(run.run_id)
    assert (stored.status, stored.owner, stored.lease_until) == (RunStatus.RUNNING, "", 0)
    async with world.uow() as uow:
        assert [r.run_id for r in await uow.strategy_runs.list_claimable(T0)] == [run.run_id]


async def _status(world: World, run_id: str, status: RunStatus) -> bool:
    return (await world.stored(run_id)).status is status


async def _drain(subscription: Any) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    iterator = aiter(subscription)
    while True:
        try:
            seen.append(await asyncio.wait_for(anext(iterator), 0.05))
        except TimeoutError:
            return seen


class StillLoading(ScriptedBacktester):
    async def specs(self) -> list[StrategySpec]:
        await asyncio.Event().wait()  # Jesse takes seconds to load; this one never finishes
        return []


class CannotStart(ScriptedBacktester):
    calls = 0

    async def specs(self) -> list[StrategySpec]:
        self.calls += 1
        raise InvalidInput("the backtest process died (out of memory, or killed)")


async def test_a_worker_stops_at_once_while_its_strategies_still_load(world: World) -> None:
    backtester = StillLoading()
    async with running(world.worker(backtester)):
        pass  # `running` fails the test unless the worker's loop ends within its limit
    assert backtester.closed


async def test_a_backtester_that_cannot_start_never_takes_the_worker_down(world: World) -> None:
    backtester = CannotStart()
    async with running(world.worker(backtester, publish_catalogue_every_s=0.001)):  # retried at once
        await until(lambda: backtester.calls >= 3, 5, what="the worker to try again")
    assert backtester.closed
