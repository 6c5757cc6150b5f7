"""The composition root wires Bar Replay from settings alone: history on disk, a session, a trade."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from tests.support.candles import walk
from tradesim.domain import OrderFilled, OrderType, PlaceOrder, Side
from tradesim.domain.bars import day_start_ms
from tradesim.entrypoints.bootstrap import prepare_database
from tradesim.entrypoints.container import build_container
from tradesim.entrypoints.settings import Settings

DAY = date(2024, 1, 1)


async def test_a_replay_created_through_the_container_plays_and_trades(tmp_path: Path) -> None:
    settings = Settings.from_env({"TRADESIM_DATA_DIR": str(tmp_path)})
    await prepare_database(settings)
    container = build_container(settings)
    written = await container.storage.candle_store().write_day("BTCUSDT", DAY, walk("BTCUSDT", day_start_ms(DAY), 60))
    async with container.persistence.unit_of_work() as uow:
        await uow.candle_files.record(written)
        await uow.commit()
    service = container.replay.service()
    view = await service.create("user-1", "BTCUSDT", day_start_ms(DAY), "5")
    bars = container.replay.bar_bus().subscribe(view.session.replay_id)
    stepped = await service.control("user-1", view.session.replay_id, "step")
    assert stepped.session.bars_played == 1
    assert (await anext(aiter(bars))).candle.open_time == day_start_ms(DAY)

    placed = await container.orders().place(
        "user-1", PlaceOrder(view.session.account_id, "BTCUSDT", Side.BUY, OrderType.MARKET, Decimal("0.010"))
    )
    events = container.messaging.event_bus().subscribe()
    await events.watch(view.session.account_id)
    queue = container.messaging.order_queue()
    [delivery] = await queue.receive("worker", list(range(queue.partitions)), block_ms=10)
    assert await container.order_router().handle(delivery.command) == []  # went to the session, not the live engine
    fill = await anext(e async for e in events if isinstance(e, OrderFilled))
    assert fill.order.order_id == placed.order.order_id
    assert stepped.last_candle is not None
    assert fill.execution.exec_price == stepped.last_candle.close
    assert container.replay.runner() is container.replay.runner()
    await container.replay.runner().close()
