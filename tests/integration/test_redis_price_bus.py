"""What the Redis price bus adds to the contract: namespaces, batching, and an outage that never blocks publishing."""

from __future__ import annotations

import asyncio
import socket

from tests.waiting import until
from tradesim.adapters.redis.connection import redis_client
from tradesim.adapters.redis.price_bus import RedisPriceBus
from tradesim.domain.market import Ticker


def _tick(n: int, symbol: str = "BTCUSDT") -> Ticker:
    return Ticker.of(symbol, last=f"30000.{n:02d}", ts=1_700_000_000_000 + n)


async def test_namespaces_keep_runs_apart(redis_url: str, redis_namespace: str) -> None:
    mine = RedisPriceBus(redis_client(redis_url), namespace=redis_namespace)
    other = RedisPriceBus(redis_client(redis_url), namespace=f"{redis_namespace}other:")
    try:
        assert mine.channel("BTCUSDT") == f"{redis_namespace}ticker.BTCUSDT"
        subscription = mine.subscribe(["BTCUSDT"])
        await subscription.ready()
        await other.publish(_tick(1))
        await other.flush()
        await mine.publish(_tick(2))
        stream = aiter(subscription)
        async with asyncio.timeout(3):
            got = await anext(stream)
        assert got == _tick(2)
    finally:
        await mine.aclose()
        await other.aclose()


async def test_a_burst_goes_out_as_one_message_per_channel_in_order(redis_url: str, redis_namespace: str) -> None:
    bus = RedisPriceBus(redis_client(redis_url), namespace=redis_namespace)
    try:
        subscription = bus.subscribe(["BTCUSDT", "ETHUSDT"])
        await subscription.ready()
        burst = [_tick(n, "BTCUSDT" if n % 3 else "ETHUSDT") for n in range(60)]
        for tick in burst:  # no await yields to the sender in between
            await bus.publish(tick)
        await bus.flush()
        assert (bus.sent, bus.messages) == (60, 2)
        received = []
        stream = aiter(subscription)
        async with asyncio.timeout(3):
            while len(received) < 60:
                received.append(await anext(stream))
        assert [t for t in received if t.symbol == "BTCUSDT"] == [t for t in burst if t.symbol == "BTCUSDT"]
        assert sorted(received, key=lambda t: t.ts) == burst
    finally:
        await bus.aclose()


async def test_an_unreachable_redis_drops_prices_without_blocking_the_publisher() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    bus = RedisPriceBus(redis_client(f"redis://127.0.0.1:{port}/0"), close_timeout=0.5)
    try:
        async with asyncio.timeout(1):
            for n in range(100):
                await bus.publish(_tick(n))  # returns at once: sending happens in the background
        await until(lambda: bus.dropped == 100)
        assert bus.sent == 0
    finally:
        await bus.aclose()
