"""Streamer benchmark: exchange WebSocket -> parse -> normalise -> Redis, in one streamer process.

    uv run python bench/streamer.py [--messages 300000] [--redis redis://127.0.0.1:6379/0]
    uv run python bench/streamer.py --smallest   # what the test suite runs: it works, figures mean nothing

Three processes: a Bybit v5 linear venue on loopback (tests/exchanges/bybit.py, its own
process so that its work is not counted), this process running the real streamer (the
Bybit feed, `MarketStreamer`, the Redis price bus), and, for latency, a subscriber of
`ticker.{SYMBOL}` using the Redis price bus's subscription. Every Redis channel carries a
namespace unique to the run.

Figures:
1. parse + normalise only (no network, no Redis), as a reference for the costs below;
2. throughput, in rounds: the venue sends N messages as fast as TCP takes them (a realistic
   mix of ticker deltas, public trades and kline updates over several symbols); the figure
   is N divided by the time until every resulting event was published to Redis. Target 50k/s
   for the median round. Also shown: the streamer's CPU time, since on a shared machine the
   wall-clock rate depends on what else runs;
3. latency: the venue sends ticker deltas at a steady rate, each stamped with its send time
   (in `bid1Size`, nanoseconds); the subscriber process takes the difference when the event
   arrives. Exchange frame written -> event decoded by the subscriber: p50, p99, max.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import statistics
import sys
import time
import uuid
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repo root: tests.exchanges

import msgspec
from tests.exchanges.bybit import FakeBybit
from tests.waiting import until

from tradesim.adapters.bybit.feed import BybitDialect, bybit_feed
from tradesim.adapters.memory.tables import MemoryDatabase
from tradesim.adapters.memory.unit_of_work import MemoryUnitOfWork
from tradesim.adapters.redis.connection import redis_client
from tradesim.adapters.redis.price_bus import RedisPriceBus
from tradesim.adapters.wsfeed.config import FeedConfig
from tradesim.adapters.wsfeed.stats import FeedStats
from tradesim.application.streaming import CandleWriter, MarketStreamer
from tradesim.domain.enums import Category
from tradesim.domain.market import Ticker
from tradesim.entrypoints.cli.streamer import tune_gc

SYMBOLS = ("BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT")
TARGET = 50_000
_encode = msgspec.json.Encoder().encode


def market_messages(count: int, start_ts: int) -> tuple[list[bytes], int]:
    """A Bybit linear stream: 60% ticker deltas, 35% public trades (1-2 trades), 5% kline updates.

    Returns the encoded messages and how many events the streamer should make of them.
    """
    messages: list[bytes] = []
    events = 0
    minute = start_ts - start_ts % 60_000
    for n in range(count):
        symbol = SYMBOLS[n % len(SYMBOLS)]
        ts = start_ts + n // 20
        cents = 3_000_000 + (n * 7919) % 2000  # a price wandering on the 0.01 grid
        bid = f"{cents // 100}.{cents % 100:02d}"
        ask = f"{(cents + 10) // 100}.{(cents + 10) % 100:02d}"
        kind = n % 20
        if kind < 12:
            data: dict[str, Any] = {
                "symbol": symbol, "price24hPcnt": "0.012", "bid1Price": bid, "bid1Size": f"{1 + n % 50}.{n % 1000:03d}",
                "ask1Price": ask, "ask1Size": f"{2 + n % 40}.{n % 997:03d}", "openInterest": str(40000 + n % 777),
            }  # fmt: skip
            if kind % 3 == 0:
                data.update(lastPrice=ask, markPrice=bid, indexPrice=bid)
            message: dict[str, Any] = {"topic": f"tickers.{symbol}", "type": "delta", "data": data, "cs": n, "ts": ts}
            events += 1
        elif kind < 19:
            trades = [{"T": ts - 1, "s": symbol, "S": "Buy" if n % 2 else "Sell", "v": f"0.{1 + n % 999:03d}",
                       "p": ask if n % 2 else bid, "L": "PlusTick", "i": f"{uuid.UUID(int=n * 2 + t)}", "BT": False}
                      for t in range(1 + n % 2)]  # fmt: skip
            message = {"topic": f"publicTrade.{symbol}", "type": "snapshot", "ts": ts, "data": trades}
            events += len(trades)
        else:
            row = {"start": minute, "end": minute + 59_999, "interval": "1", "open": "30000.00", "close": bid,
                   "high": "30100.00", "low": "29900.00", "volume": f"{n % 500}.5", "turnover": "1500000.5",
                   "confirm": False, "timestamp": ts}  # fmt: skip
            message = {"topic": f"kline.1.{symbol}", "data": [row], "ts": ts, "type": "snapshot"}
            events += 1
        messages.append(_encode(message))
    return messages, events


def parse_only(messages: list[bytes]) -> float:
    """Messages per second through the Bybit dialect alone (decode, route, merge, build events)."""
    dialect = BybitDialect(Category.LINEAR, SYMBOLS, FeedStats("bench"))
    for symbol in SYMBOLS:  # the snapshots a subscription starts with
        dialect.handle(_snapshot(symbol))
    started = time.perf_counter()
    for message in messages:
        dialect.decode(message)
    return len(messages) / (time.perf_counter() - started)


def _snapshot(symbol: str) -> dict[str, Any]:
    data = {"symbol": symbol, "lastPrice": "30000.00", "markPrice": "30000.00", "bid1Price": "29999.90",
            "bid1Size": "1", "ask1Price": "30000.00", "ask1Size": "1", "fundingRate": "0.0001",
            "nextFundingTime": "1700006400000"}  # fmt: skip
    return {"topic": f"tickers.{symbol}", "type": "snapshot", "data": data, "cs": 0, "ts": 1_600_000_000_000}


# -- the venue ---------------------------------------------------------------------------------


def venue_process(conn: Connection) -> None:
    asyncio.run(_venue(conn))


async def _venue(conn: Connection) -> None:
    loop = asyncio.get_running_loop()
    async with FakeBybit() as venue:
        for symbol in SYMBOLS:
            venue.seed(symbol)
            venue.tickers[("linear", symbol)].update(_snapshot(symbol)["data"])
        conn.send(venue.url)
        prepared: list[bytes] = []
        # Message times continue from the wall clock (after the subscription snapshots, which the
        # venue stamps with its own clock from 2023) so that nothing looks out of order.
        next_ts = time.time_ns() // 1_000_000
        while True:
            command, *args = await loop.run_in_executor(None, conn.recv)
            if command == "prepare":
                prepared, events = market_messages(args[0], next_ts)
                next_ts += args[0] // 20 + 1
                await venue.wait_for_sessions(1, subscribed=3 * len(SYMBOLS))
                conn.send(events)
            elif command == "go":
                await venue.blast(f"tickers.{SYMBOLS[0]}", prepared)
                conn.send("sent")
            elif command == "pace":
                rate, count = args
                await _paced_ticks(venue, rate, count, next_ts)
                conn.send("sent")
            else:
                return


async def _paced_ticks(venue: FakeBybit, rate: float, count: int, first_ts: int) -> None:
    """Ticker deltas at `rate` per second, each carrying its send time (ns) in bid1Size."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    for n in range(count):
        delay = start + n / rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        cents = 3_000_000 + n % 1000
        await venue.set_ticker(
            "linear", SYMBOLS[0], ts=first_ts + n, bid1Price=f"{cents // 100}.{cents % 100:02d}",
            ask1Price=f"{(cents + 10) // 100}.{(cents + 10) % 100:02d}", bid1Size=str(time.time_ns()),
        )  # fmt: skip


# -- the subscriber ----------------------------------------------------------------------------


def subscriber_process(conn: Connection, redis_url: str, namespace: str, count: int) -> None:
    asyncio.run(_subscriber(conn, redis_url, namespace, count))


async def _subscriber(conn: Connection, redis_url: str, namespace: str, count: int) -> None:
    bus = RedisPriceBus(redis_client(redis_url), namespace=namespace)
    subscription = bus.subscribe([SYMBOLS[0]])
    await subscription.ready()
    conn.send("ready")
    latencies: list[int] = []
    stamped = 10**18  # send times in ns are larger than any real size
    try:
        async with asyncio.timeout(120):
            async for event in subscription:
                if isinstance(event, Ticker) and event.bid_size is not None and event.bid_size > stamped:
                    latencies.append(time.time_ns() - int(event.bid_size))
                    if len(latencies) == count:
                        break
    except TimeoutError:
        pass
    conn.send(latencies)
    await bus.aclose()


# -- the streamer (this process) -----------------------------------------------------------------


async def run(messages: int, rounds: int, redis_url: str, rate: float, ticks: int) -> bool:
    sample, _ = market_messages(min(messages, 100_000), 1_700_000_000_000)
    print(f"parse + normalise only (no network, no Redis): {parse_only(sample):,.0f} messages/s")

    namespace = f"bench-{uuid.uuid4().hex[:8]}:"
    venue_end, venue_conn = mp.Pipe()
    venue = mp.Process(target=venue_process, args=(venue_end,), daemon=True)
    venue.start()
    url = venue_conn.recv()
    bus = RedisPriceBus(redis_client(redis_url), namespace=namespace)
    feed = bybit_feed(url, Category.LINEAR, FeedConfig(stale_after=60))
    streamer = MarketStreamer([feed], SYMBOLS, bus, CandleWriter(lambda: MemoryUnitOfWork(MemoryDatabase())))
    running = asyncio.create_task(streamer.run())
    loop = asyncio.get_running_loop()
    try:
        await until(lambda: streamer.stats.published >= len(SYMBOLS), within=10)  # the subscription snapshots
        rates: list[float] = []
        for round_ in range(1, rounds + 1):
            venue_conn.send(("prepare", messages))
            expected = await loop.run_in_executor(None, venue_conn.recv)
            await bus.flush()
            before_events, before_sent, before_commands = streamer.stats.published, bus.sent, bus.messages
            started, cpu_started = time.perf_counter(), time.process_time()
            venue_conn.send(("go",))
            try:
                target = before_events + expected
                await until(lambda t=target: streamer.stats.published >= t, within=120, step=0.001)
            except TimeoutError:
                print(f"FAIL: only {streamer.stats.published - before_events:,} of {expected:,} events after 120 s")
                print(f"  feed: {feed.stats.snapshot()}")
                return False
            await bus.flush()
            elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
            await loop.run_in_executor(None, venue_conn.recv)  # the venue's "sent"
            sent = bus.sent - before_sent
            rates.append(messages / elapsed)
            print(
                f"throughput round {round_}: {messages:,} exchange messages -> {sent:,} events to Redis in "
                f"{bus.messages - before_commands:,} PUBLISH commands, {elapsed:.2f} s: {messages / elapsed:,.0f} "
                f"messages/s ({sent / elapsed:,.0f} events/s); streamer CPU {cpu:.2f} s = "
                f"{messages / cpu:,.0f} messages per CPU-second"
            )
        print(f"  feed drops: {dict(feed.stats.dropped) or 'none'}; bus drops: {bus.dropped}")

        sub_end, sub_conn = mp.Pipe()
        subscriber = mp.Process(target=subscriber_process, args=(sub_end, redis_url, namespace, ticks), daemon=True)
        subscriber.start()
        await loop.run_in_executor(None, sub_conn.recv)  # ready
        venue_conn.send(("pace", rate, ticks))
        latencies = await loop.run_in_executor(None, sub_conn.recv)
        await loop.run_in_executor(None, venue_conn.recv)  # the venue's "sent"
        subscriber.join(5)
        if len(latencies) < ticks:
            print(f"latency: only {len(latencies)} of {ticks} stamped ticks arrived")
        if latencies:
            ordered = sorted(latencies)
            p50 = statistics.median(ordered) / 1e6
            p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] / 1e6
            print(
                f"latency exchange -> Redis subscriber ({len(ordered):,} ticks at {rate:,.0f}/s): "
                f"p50 {p50:.2f} ms, p99 {p99:.2f} ms, max {ordered[-1] / 1e6:.2f} ms"
            )
        median = statistics.median(rates)
        passed = median >= TARGET and bus.dropped == 0 and not feed.stats.dropped
        verdict = "PASS" if passed else "FAIL"
        print(f"{verdict}: median {median:,.0f} messages/s over {rounds} rounds (target >= {TARGET:,}/s)")
        return passed
    finally:
        venue_conn.send(("stop",))
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        await bus.aclose()
        venue.join(5)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=200_000, help="exchange messages per throughput round")
    parser.add_argument("--rounds", type=int, default=3, help="throughput rounds (the median decides)")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0", help="Redis URL (channels get a run namespace)")
    parser.add_argument("--rate", type=float, default=1000.0, help="ticks per second for the latency run")
    parser.add_argument("--ticks", type=int, default=5000, help="stamped ticks for the latency run")
    parser.add_argument("--smallest", action="store_true", help="the smallest run, as the tests run it")
    args = parser.parse_args()
    if args.smallest:
        args.messages, args.rounds, args.ticks = 500, 1, 50
    tune_gc()  # as `tradesim streamer` does
    passed = asyncio.run(run(args.messages, args.rounds, args.redis, args.rate, args.ticks))
    return 0 if passed or args.smallest else 1  # the smallest run's figures judge nothing


if __name__ == "__main__":
    sys.exit(main())
