"""The streamer use case against in-memory fakes: prices always flow, closed candles reach the table."""

from __future__ import annotations

import asyncio
import contextlib
from decimal import Decimal

from tests.waiting import until
from tradesim.adapters.memory.market_data import ScriptedMarketFeed
from tradesim.adapters.memory.messaging import MemoryPriceBus
from tradesim.adapters.memory.tables import MemoryDatabase
from tradesim.adapters.memory.unit_of_work import MemoryUnitOfWork
from tradesim.application.streaming import CandleWriter, MarketStreamer
from tradesim.domain.enums import Category
from tradesim.domain.market import Candle, FeedStatus, MarketEvent, Ticker


def _candle(minute: int, close: str = "101", *, closed: bool = True, symbol: str = "BTCUSDT") -> Candle:
    return Candle(
        symbol, minute * 60_000, Decimal("100"), Decimal("102"), Decimal("99"), Decimal(close), Decimal("5"),
        closed=closed,
    )  # fmt: skip


async def _stored(database: MemoryDatabase) -> list[Candle]:
    async with MemoryUnitOfWork(database) as uow:
        return await uow.candles.range("BTCUSDT", 0, 10**15)


async def _no_sleep(_: float) -> None:
    await asyncio.sleep(0)


async def test_closed_candles_are_written_in_batches() -> None:
    database = MemoryDatabase()
    writer = CandleWriter(lambda: MemoryUnitOfWork(database), batch_size=2)
    for minute in range(5):
        writer.add(_candle(minute))
    assert await writer.flush_once()
    assert [c.open_time for c in await _stored(database)] == [0, 60_000]
    await writer.drain()
    assert len(await _stored(database)) == 5
    assert (writer.pending, writer.stats.candles_written) == (0, 5)


async def test_a_database_outage_keeps_the_candles_until_it_answers_again() -> None:
    database = MemoryDatabase()
    delays: list[float] = []

    async def sleep(delay: float) -> None:
        delays.append(delay)
        if len(delays) == 3:
            database.available = True
        await asyncio.sleep(0)

    writer = CandleWriter(lambda: MemoryUnitOfWork(database), flush_interval=0.01, retry_initial=0.5, sleep=sleep)
    database.available = False
    writer.add(_candle(1, "101"))
    writer.add(_candle(1, "101.5"))  # a second version of the same bar replaces the first
    task = asyncio.create_task(writer.run())
    await until(lambda: not writer.pending)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert delays == [0.5, 1.0, 2.0]
    assert [c.close for c in await _stored(database)] == [Decimal("101.5")]
    assert (writer.stats.candle_write_failures, writer.stats.candles_written) == (3, 1)


async def test_the_pending_candles_are_bounded() -> None:
    database = MemoryDatabase()
    database.available = False
    writer = CandleWriter(lambda: MemoryUnitOfWork(database), max_pending=3, sleep=_no_sleep)
    for minute in range(5):
        writer.add(_candle(minute))
    assert (writer.pending, writer.stats.candles_dropped) == (3, 2)
    database.available = True
    await writer.drain()
    assert [c.open_time // 60_000 for c in await _stored(database)] == [2, 3, 4]


async def test_every_event_is_published_and_closed_candles_are_stored_even_while_the_database_is_down() -> None:
    database = MemoryDatabase()
    database.available = False
    bus = MemoryPriceBus()
    events: list[MarketEvent] = [
        Ticker.of("BTCUSDT", last="30000.1", bid="30000", ask="30000.1", ts=1),
        _candle(0, closed=False),
        _candle(0),
        FeedStatus("BTCUSDT", True, 2),
        Ticker.of("ETHUSDT", last="2000", ts=3, category=Category.SPOT),
        Ticker.of("BTCUSDT", last="30000.2", ts=4),
    ]
    writer = CandleWriter(lambda: MemoryUnitOfWork(database), flush_interval=0.01, retry_initial=0.01)
    streamer = MarketStreamer([ScriptedMarketFeed(events)], ["BTCUSDT", "ETHUSDT"], bus, writer)
    subscription = bus.subscribe(["BTCUSDT", "ETHUSDT"])
    stream = aiter(subscription)
    task = asyncio.create_task(streamer.run())
    async with asyncio.timeout(2):
        received = [await anext(stream) for _ in events]
    assert received == events  # while the database is down
    await until(lambda: writer.stats.candle_write_failures)
    assert writer.pending == 1
    database.available = True
    await until(lambda: not writer.pending)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert await _stored(database) == [_candle(0)]
    assert streamer.stats.published == len(events)
    assert streamer.stats.candle_write_failures >= 1


async def test_a_failing_bus_does_not_stop_the_candles() -> None:
    class BrokenBus(MemoryPriceBus):
        async def publish(self, event: MarketEvent) -> None:
            raise ConnectionError("bus down")

    database = MemoryDatabase()
    writer = CandleWriter(lambda: MemoryUnitOfWork(database), flush_interval=0.01)
    streamer = MarketStreamer([ScriptedMarketFeed([_candle(0), _candle(1)])], ["BTCUSDT"], BrokenBus(), writer)
    task = asyncio.create_task(streamer.run())
    await until(lambda: writer.stats.candles_written == 2)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert streamer.stats.publish_failures == 2
