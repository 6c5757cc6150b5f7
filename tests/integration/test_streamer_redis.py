"""From the exchange server to a subscriber of `ticker.{SYMBOL}` on the real Redis, and closed candles to the table."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from decimal import Decimal

import redis.asyncio as redis

from tests.exchanges.bybit import FakeBybit
from tests.waiting import until
from tradesim.adapters.bybit.feed import bybit_feed
from tradesim.adapters.memory.tables import MemoryDatabase
from tradesim.adapters.memory.unit_of_work import MemoryUnitOfWork
from tradesim.adapters.redis.connection import redis_client
from tradesim.adapters.redis.market_codec import decode_events
from tradesim.adapters.redis.price_bus import RedisPriceBus
from tradesim.adapters.wsfeed.config import FeedConfig
from tradesim.application.streaming import CandleWriter, MarketStreamer
from tradesim.domain.enums import Category
from tradesim.domain.market import Candle, FeedStatus, Ticker

FAST = FeedConfig(stale_after=5.0, heartbeat_interval=0.2, backoff_initial=0.05, backoff_cap=0.2, healthy_after=0.3)


async def test_a_tick_from_the_exchange_reaches_a_redis_subscriber_and_a_closed_candle_the_table(
    redis_url: str, redis_namespace: str
) -> None:
    database = MemoryDatabase()
    async with FakeBybit() as exchange:
        exchange.seed("BTCUSDT")
        bus = RedisPriceBus(redis_client(redis_url), namespace=redis_namespace)
        subscription = bus.subscribe(["BTCUSDT"])
        stream = aiter(subscription)
        await subscription.ready()
        writer = CandleWriter(lambda: MemoryUnitOfWork(database), flush_interval=0.05)
        streamer = MarketStreamer([bybit_feed(exchange.url, Category.LINEAR, FAST)], ["BTCUSDT"], bus, writer)
        running = asyncio.create_task(streamer.run())
        try:
            async with asyncio.timeout(5):
                snapshot = await anext(stream)
            assert isinstance(snapshot, Ticker)
            await exchange.wait_for_sessions(1, subscribed=3)
            await exchange.set_ticker(
                "linear", "BTCUSDT", lastPrice="30123.45", bid1Price="30123.40", ask1Price="30123.50"
            )
            async with asyncio.timeout(5):
                tick = await anext(stream)
            assert isinstance(tick, Ticker)
            assert (tick.symbol, tick.category, tick.last_price, tick.bid_price) == (
                "BTCUSDT", Category.LINEAR, Decimal("30123.45"), Decimal("30123.40"),
            )  # fmt: skip
            assert str(tick.last_price) == "30123.45"
            start = 1_700_000_040_000
            await exchange.kline("linear", "BTCUSDT", start=start, open="30100", high="30150", low="30090",
                                 close="30123.45", volume="12.5", confirm=True)  # fmt: skip
            async with asyncio.timeout(5):
                candle = await anext(stream)
            assert isinstance(candle, Candle)
            assert candle.closed
            await until(lambda: writer.stats.candles_written == 1)
            async with MemoryUnitOfWork(database) as uow:
                assert await uow.candles.range("BTCUSDT", start, start + 60_000) == [candle]
        finally:
            running.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await running
            await bus.aclose()


async def test_the_streamer_command_publishes_to_redis_and_stops_cleanly_on_sigterm(
    redis_url: str, redis_namespace: str, tmp_path: object
) -> None:
    """A real `tradesim streamer` process between the exchange server and Redis."""
    async with FakeBybit() as exchange:
        exchange.seed("BTCUSDT")
        exchange.seed("ETHUSDT")
        listener = redis.Redis.from_url(redis_url)
        pubsub = listener.pubsub()
        await pubsub.subscribe(f"{redis_namespace}ticker.BTCUSDT")
        env = {
            **os.environ,
            "TRADESIM_DATA_DIR": str(tmp_path),
            "TRADESIM_REDIS_URL": redis_url,
            "TRADESIM_REDIS_NAMESPACE": redis_namespace,
            "TRADESIM_BYBIT_WS_URL": exchange.url,
            "TRADESIM_FEEDS": "bybit-linear,bybit-spot",
            "TRADESIM_SYMBOLS": "BTCUSDT,ETHUSDT",
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tradesim.entrypoints.cli.main", "streamer",
            env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        try:
            seen: set[tuple[str, str]] = set()
            async with asyncio.timeout(15):
                while len(seen) < 2:  # a linear and a spot ticker, both on ticker.BTCUSDT
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                    if message is None:
                        continue
                    for event in decode_events(message["data"]):
                        if isinstance(event, Ticker):
                            seen.add((event.symbol, event.category.value))
            assert seen == {("BTCUSDT", "linear"), ("BTCUSDT", "spot")}
            process.send_signal(signal.SIGTERM)
            async with asyncio.timeout(10):
                output, _ = await process.communicate()
            assert process.returncode == 0, output.decode()
            text = output.decode()
            assert "stopped" in text
            assert "bybit-linear: connected" in text
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
            await pubsub.aclose()
            await listener.aclose()


async def test_stale_and_fresh_statuses_travel_through_redis(redis_url: str, redis_namespace: str) -> None:
    async with FakeBybit() as exchange:
        exchange.seed("BTCUSDT")
        bus = RedisPriceBus(redis_client(redis_url), namespace=redis_namespace)
        subscription = bus.subscribe(["BTCUSDT"])
        await subscription.ready()
        writer = CandleWriter(lambda: MemoryUnitOfWork(MemoryDatabase()))
        streamer = MarketStreamer([bybit_feed(exchange.url, Category.LINEAR, FAST)], ["BTCUSDT"], bus, writer)
        running = asyncio.create_task(streamer.run())
        received: list[object] = []

        async def read() -> None:
            async for event in subscription:
                received.append(event)

        reader = asyncio.create_task(read())
        try:
            await until(lambda: any(isinstance(e, Ticker) for e in received))
            await exchange.disconnect()
            await until(lambda: sum(isinstance(e, FeedStatus) for e in received) == 2)
            statuses = [e for e in received if isinstance(e, FeedStatus)]
            assert [s.stale for s in statuses] == [True, False]
            await until(lambda: isinstance(received[-1], Ticker))
            assert isinstance(received[received.index(statuses[1]) + 1], Ticker)  # the fresh ticker right after
        finally:
            for task in (running, reader):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await bus.aclose()
