"""Contract of the strategy-run repository (every adapter in `UOW_BACKENDS`)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal

import pytest

from tests.contract import records
from tradesim.domain.errors import Conflict
from tradesim.domain.strategy_runs import RunStatus, StrategyRun
from tradesim.domain.strategy_specs import Hyperparameter, StrategySpec
from tradesim.ports.strategy_runs import StrategyCatalogueBoard, StrategyRunUpdates
from tradesim.ports.unit_of_work import UnitOfWork

UowFactory = Callable[[], UnitOfWork]
T0 = records.T0
DAY = 86_400_000


def run(n: int = 1, *, user: str = "user-1", created: int = T0) -> StrategyRun:
    return StrategyRun.queued(
        f"run-{n}",
        user,
        "SmaCross",
        "BTCUSDT",
        "1h",
        T0 - 10 * DAY,
        T0 - 5 * DAY,
        Decimal("10000.50"),
        2,
        {"fast": 12, "stop_percent": 2.5, "flag": True},
        created,
    )


async def test_runs_round_trip_exactly_and_are_listed_newest_first(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        await uow.strategy_runs.add(run(1))
        await uow.strategy_runs.add(run(2, created=T0 + 5))
        await uow.strategy_runs.add(run(3, user="user-2"))
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.strategy_runs.get("run-1") == run(1)
        assert await uow.strategy_runs.get("run-9") is None
        assert [r.run_id for r in await uow.strategy_runs.list_by_user("user-1")] == ["run-2", "run-1"]
        assert [r.run_id for r in await uow.strategy_runs.list_by_user("user-1", limit=1)] == ["run-2"]
        assert await uow.strategy_runs.count_active("user-1") == 2
        with pytest.raises(Conflict):
            await uow.strategy_runs.add(run(1))


async def test_a_claimed_run_is_not_claimable_until_its_lease_lapses(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        await uow.strategy_runs.add(run(1))
        await uow.strategy_runs.add(run(2, created=T0 + 1))
        await uow.commit()
    async with uow_factory() as uow:
        assert [r.run_id for r in await uow.strategy_runs.list_claimable(T0)] == ["run-1", "run-2"]
        assert await uow.strategy_runs.claim("run-1", "worker-a", T0, T0 + 30_000)
        await uow.commit()
    async with uow_factory() as uow:
        assert not await uow.strategy_runs.claim("run-1", "worker-b", T0 + 1, T0 + 30_001)
        assert await uow.strategy_runs.claim("run-1", "worker-a", T0 + 1, T0 + 40_000)  # renewal
        assert [r.run_id for r in await uow.strategy_runs.list_claimable(T0 + 2)] == ["run-2"]
        await uow.commit()
    async with uow_factory() as uow:
        stored = await uow.strategy_runs.get("run-1")
        assert stored is not None
        assert (stored.owner, stored.lease_until) == ("worker-a", T0 + 40_000)
        # lapsed: another worker takes it over
        assert [r.run_id for r in await uow.strategy_runs.list_claimable(T0 + 40_000)] == ["run-1", "run-2"]
        assert await uow.strategy_runs.claim("run-1", "worker-b", T0 + 40_000, T0 + 70_000)
        await uow.commit()
    async with uow_factory() as uow:
        await uow.strategy_runs.release("run-1", "worker-a")  # not the holder: nothing happens
        stored = await uow.strategy_runs.get("run-1")
        assert stored is not None
        assert stored.owner == "worker-b"
        await uow.strategy_runs.release("run-1", "worker-b")
        await uow.commit()
    async with uow_factory() as uow:
        stored = await uow.strategy_runs.get("run-1")
        assert stored is not None
        assert (stored.owner, stored.lease_until) == ("", 0)


async def test_only_the_lease_holder_writes_an_active_run(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        await uow.strategy_runs.add(run(1))
        assert await uow.strategy_runs.claim("run-1", "worker-a", T0, T0 + 30_000)
        await uow.commit()
    started = run(1).started(T0 + 1)
    result = {"metrics": {"total": "3"}, "trades": [], "equityCurve": [[T0, "10000.50"]]}
    async with uow_factory() as uow:
        assert not await uow.strategy_runs.save(started, "worker-b")
        assert await uow.strategy_runs.save(started.advanced(Decimal("0.25"), T0 + 2), "worker-a")
        await uow.commit()
    async with uow_factory() as uow:
        stored = await uow.strategy_runs.get("run-1")
        assert stored is not None
        assert (stored.status, stored.progress, stored.owner) == (RunStatus.RUNNING, Decimal("0.25"), "worker-a")
        assert await uow.strategy_runs.save(started.finished(result, T0 + 3), "worker-a")
        await uow.commit()
    async with uow_factory() as uow:
        stored = await uow.strategy_runs.get("run-1")
        assert stored is not None
        assert (stored.status, stored.progress, stored.result) == (RunStatus.FINISHED, Decimal(1), result)
        assert await uow.strategy_runs.count_active("user-1") == 0
        assert await uow.strategy_runs.list_claimable(T0 + 10**9) == []
        # ended: neither a late write nor a cancel changes it
        assert not await uow.strategy_runs.save(started.failed("late", T0 + 4), "worker-a")
        assert not await uow.strategy_runs.cancel("run-1", T0 + 5)
        assert not await uow.strategy_runs.claim("run-1", "worker-a", T0 + 10**9, T0 + 10**9)


async def test_a_cancelled_run_refuses_its_worker_s_writes(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        await uow.strategy_runs.add(run(1))
        assert await uow.strategy_runs.claim("run-1", "worker-a", T0, T0 + 30_000)
        assert await uow.strategy_runs.save(run(1).started(T0), "worker-a")
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.strategy_runs.cancel("run-1", T0 + 7)
        await uow.commit()
    async with uow_factory() as uow:
        assert not await uow.strategy_runs.save(run(1).started(T0).advanced(Decimal("0.5"), T0 + 8), "worker-a")
        stored = await uow.strategy_runs.get("run-1")
        assert stored is not None
        assert (stored.status, stored.updated_time) == (RunStatus.CANCELLED, T0 + 7)


async def test_the_published_catalogue_reads_back_whole(strategy_catalogue_board: StrategyCatalogueBoard) -> None:
    assert await strategy_catalogue_board.read() is None
    specs = [
        StrategySpec(
            "SmaCross",
            "builtin",
            (
                Hyperparameter("fast", "int", 2, 100, 10),
                Hyperparameter("stop_percent", "float", 0.5, 10.0, 2.0),
                Hyperparameter("mode", "categorical", default="a", options=("a", "b")),
            ),
        ),
        StrategySpec("Broken", "dir", error="SyntaxError: invalid syntax"),
    ]
    await strategy_catalogue_board.publish(specs)
    assert await strategy_catalogue_board.read() == specs
    await strategy_catalogue_board.publish(specs[:1])
    assert await strategy_catalogue_board.read() == specs[:1]


async def test_run_updates_reach_the_run_s_subscribers_only(strategy_run_updates: StrategyRunUpdates) -> None:
    mine, other = strategy_run_updates.subscribe("run-1"), strategy_run_updates.subscribe("run-2")
    message = {"runId": "run-1", "status": "running", "progress": "0.5"}
    got = asyncio.create_task(anext(aiter(mine)))
    stray = asyncio.create_task(anext(aiter(other)))
    async with asyncio.timeout(5.0):
        while not got.done():  # until the subscription is live (pub/sub keeps nothing for late subscribers)
            await strategy_run_updates.publish("run-1", message)
            await asyncio.wait({got}, timeout=0.02)
    assert got.result() == message
    theirs = {"runId": "run-2", "status": "finished", "progress": "1"}
    async with asyncio.timeout(5.0):
        while not stray.done():
            await strategy_run_updates.publish("run-2", theirs)
            await asyncio.wait({stray}, timeout=0.02)
    assert stray.result() == theirs
    await other.aclose()
    await mine.aclose()
