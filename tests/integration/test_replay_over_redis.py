"""The production split over real Redis: an api process controls a replay that a worker's runner holds.

Two containers (api role and worker role) share one database, one object store and one Redis
namespace: the api's controls and orders reach the worker through the Redis inbox, the bars
come back on the Redis channel `replay.{replayId}`.
"""

from __future__ import annotations

import asyncio
from datetime import date
from decimal import Decimal
from pathlib import Path

from tests.support.candles import walk
from tests.waiting import until
from tradesim.adapters.memory.tables import MemoryDatabase
from tradesim.adapters.redis.channel_subscription import ChannelSubscription
from tradesim.domain import OrderFilled, OrderType, PlaceOrder, Side
from tradesim.domain.bars import day_start_ms
from tradesim.domain.replay_session import ReplayState
from tradesim.entrypoints.bootstrap import prepare_database
from tradesim.entrypoints.container import build_container, provide
from tradesim.entrypoints.settings import Settings

DAY = date(2024, 1, 1)
T1 = day_start_ms(DAY)


async def test_an_api_controls_a_replay_held_by_a_worker_through_redis(
    tmp_path: Path, redis_url: str, redis_namespace: str
) -> None:
    env = {
        "TRADESIM_DATA_DIR": str(tmp_path),
        "TRADESIM_REDIS_URL": redis_url,
        "TRADESIM_REDIS_NAMESPACE": redis_namespace,
        "TRADESIM_ORDER_PARTITIONS": "1",
    }
    await prepare_database(Settings.from_env(env))
    api, worker = build_container(Settings.from_env(env)), build_container(Settings.from_env(env))
    shared_database = MemoryDatabase()  # stands in for PostgreSQL until the SQL adapters land
    api.persistence.memory_database.override(shared_database)
    worker.persistence.memory_database.override(shared_database)
    await api.init_resources()  # type: ignore[misc]
    await worker.init_resources()  # type: ignore[misc]
    try:
        written = await api.storage.candle_store().write_day("BTCUSDT", DAY, walk("BTCUSDT", T1, 120))
        async with api.persistence.unit_of_work() as uow:
            await uow.candle_files.record(written)
            await uow.commit()
        replays = await provide(api.replay.service(dispatch=await provide(api.replay.inbox_dispatch())))
        view = await replays.create("user-1", "BTCUSDT", T1, "5")
        replay_id, account_id = view.session.replay_id, view.session.account_id

        bars = (await provide(api.replay.bar_bus())).subscribe(replay_id)
        assert isinstance(bars, ChannelSubscription)
        await bars.open()
        runner = await provide(worker.replay.runner())
        answer = await replays.control("user-1", replay_id, "step")
        assert answer.session.state is ReplayState.PAUSED

        async def adopted() -> bool:
            await runner.round()  # runners look for sessions to adopt every second
            return replay_id in runner.active

        await until(adopted, within=10, step=0.05, what="the runner to adopt the session")
        first = await asyncio.wait_for(anext(aiter(bars)), 5)
        assert first.candle.open_time == T1

        placed = await (await provide(api.orders())).place(
            "user-1", PlaceOrder(account_id, "BTCUSDT", Side.BUY, OrderType.MARKET, Decimal("0.010"))
        )
        events = (await provide(api.messaging.event_bus())).subscribe()
        await events.watch(account_id)
        queue = await provide(worker.messaging.order_queue())
        deliveries = await queue.receive("worker-1", [0], block_ms=100)
        assert await (await provide(worker.order_router())).split([d.command for d in deliveries]) == []
        await queue.ack(deliveries)
        await runner.round()
        fill = await asyncio.wait_for(anext(e async for e in events if isinstance(e, OrderFilled)), 5)
        assert (fill.order.order_id, fill.execution.exec_price) == (placed.order.order_id, first.candle.close)
        await events.aclose()
        await bars.aclose()
        await runner.close()
    finally:
        await api.shutdown_resources()  # type: ignore[misc]
        await worker.shutdown_resources()  # type: ignore[misc]
