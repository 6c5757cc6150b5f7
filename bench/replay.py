"""Bar Replay benchmark: load a year of 1m candles into a replay, and play it as fast as it goes.

    uv run python bench/replay.py [--runs 5] [--bars 20160] [--days 365]
    uv run python bench/replay.py --smallest     # what the test suite runs: it works, figures mean nothing

1. Writes one synthetic year (365 daily Parquet files, 525,600 bars, seeded random walk on the
   BTCUSDT tick grid) to a local folder, and the same files to S3 on a moto server on loopback.
2. Times loading the whole year into a replay's day cache (`BarCache.days`: the path a replay
   reads history through) from the folder and from S3, cold cache each run.
3. Times reading the same rows from PostgreSQL's `market_candles` (the real schema: migrated,
   partitioned by month), in a database of its own created on the server of
   TRADESIM_TEST_DATABASE_URL and dropped at the end: the bare rows with asyncpg (the target's
   baseline), and `Candle` records through the repository (`uow.candles.range`).
4. Plays bars through a replay session's engine at maximum speed (no pacing) with 0 and with
   100 resting orders, and reports bars per second.

Targets: the local load under 300 ms, and at least 10x faster than PostgreSQL. The OS page
cache holds the files after they are written, as it would for a replay worker's hot days.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import logging
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from array import array
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from tradesim.adapters.localfs.stores import local_candle_store
from tradesim.adapters.memory.clock import FixedClock
from tradesim.adapters.memory.messaging import MemoryEventBus
from tradesim.adapters.memory.replays import MemoryReplayBarBus, MemoryReplayInbox
from tradesim.adapters.memory.tables import MemoryDatabase
from tradesim.adapters.memory.unit_of_work import MemoryUnitOfWork
from tradesim.adapters.parquet.candle_store import ParquetCandleStore
from tradesim.adapters.s3.objects import S3Location, S3Objects
from tradesim.adapters.s3.stores import s3_candle_store
from tradesim.application.accounts import AccountService
from tradesim.application.replay.active import Ports
from tradesim.application.replay.cache import BarCache
from tradesim.application.replay.runner import ReplayRunner
from tradesim.application.replay.service import ReplayService
from tradesim.domain import default_catalog
from tradesim.domain.bars import DayBars, day_start_ms
from tradesim.domain.commands import PlaceOrder
from tradesim.domain.enums import OrderType, Side
from tradesim.domain.history import CandleFile

SYMBOL = "BTCUSDT"
SEED = 20_230_101
FIRST_DAY = date(2023, 1, 1)
DAYS = 365
PRICE_SCALE = 2  # BTCUSDT's tick is 0.10: files keep two decimals
TICK_UNITS = 10  # 0.10 in units of 0.01
LOCAL_TARGET_MS = 300.0
SPEEDUP_TARGET = 10.0


def synthetic_year(seed: int = SEED) -> list[DayBars]:
    """A mean-reverting random walk around 30,000 USDT, every price on the 0.10 grid."""
    rng = random.Random(seed)
    price = 3_000_000 * 100 // 100  # 30,000.00 in units of 0.01
    year = []
    for d in range(DAYS):
        day = FIRST_DAY + timedelta(days=d)
        start = day_start_ms(day)
        cols: dict[str, array[int]] = {k: array("q") for k in ("t", "o", "h", "l", "c", "v")}
        for m in range(1440):
            drift = -1 if price > 3_000_000 else 1
            step = (rng.randint(-40, 40) + drift * rng.randint(0, 3)) * TICK_UNITS
            opened, price = price, max(1_000_000, price + step)
            cols["t"].append(start + m * 60_000)
            cols["o"].append(opened)
            cols["h"].append(max(opened, price) + rng.randint(0, 15) * TICK_UNITS)
            cols["l"].append(min(opened, price) - rng.randint(0, 15) * TICK_UNITS)
            cols["c"].append(price)
            cols["v"].append(rng.randint(0, 2_000_000))  # up to 2,000.000 BTC
        year.append(
            DayBars(SYMBOL, day, cols["t"], cols["o"], cols["h"], cols["l"], cols["c"], cols["v"], PRICE_SCALE, 3)
        )
    return year


async def write_year(store: ParquetCandleStore, year: list[DayBars]) -> list[CandleFile]:
    return list(await asyncio.gather(*(store.write_bars(bars) for bars in year)))


async def timed(runs: int, work: Callable[[], Awaitable[object]]) -> list[float]:
    """Milliseconds of each run."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        await work()
        times.append((time.perf_counter() - start) * 1000)
    return times


async def load_year(store: ParquetCandleStore, days: list[date]) -> int:
    """Into a fresh (cold) replay cache: what a replay worker does to have the whole year at hand."""
    cache = BarCache(store, max_bytes=2**31)
    loaded = await cache.days(SYMBOL, days)
    rows = sum(len(b) for b in loaded if b is not None)
    assert rows == DAYS * 1440, rows
    return rows


def describe(times: list[float]) -> str:
    return f"best {min(times):8.1f} ms   median {statistics.median(times):8.1f} ms   ({len(times)} runs)"


# -- PostgreSQL baseline ------------------------------------------------------------------------


def _decimal_text(units: int, scale: int) -> str:
    return format(Decimal(units).scaleb(-scale), "f")


async def postgres_baseline(server_url: str, year: list[DayBars], runs: int) -> tuple[list[float], list[float]]:
    """(bare rows with asyncpg, `Candle` records through the repository), both from `market_candles`."""
    import asyncpg

    from tradesim.adapters.sqlalchemy.database import Database
    from tradesim.adapters.sqlalchemy.market import ENSURE_PARTITIONS
    from tradesim.adapters.sqlalchemy.migrate import upgrade_to_head_async
    from tradesim.adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork

    base = server_url.replace("postgresql+asyncpg://", "postgresql://")
    name = f"tradesim_bench_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(base.rsplit("/", 1)[0] + "/postgres")
    await admin.execute(f'CREATE DATABASE "{name}"')
    sqlalchemy_url = server_url.rsplit("/", 1)[0] + f"/{name}"
    try:
        await upgrade_to_head_async(sqlalchemy_url)
        start, end = day_start_ms(FIRST_DAY), day_start_ms(FIRST_DAY + timedelta(days=DAYS))
        connection = await asyncpg.connect(base.rsplit("/", 1)[0] + f"/{name}")
        try:
            await connection.execute(f"SELECT {ENSURE_PARTITIONS}($1, $2)", start, end)
            buffer = io.StringIO()
            for bars in year:
                ps, vs = bars.price_scale, bars.volume_scale
                for i in range(len(bars)):
                    buffer.write(
                        f"linear,{SYMBOL},1m,{bars.open_time[i]},{_decimal_text(bars.open[i], ps)},"
                        f"{_decimal_text(bars.high[i], ps)},{_decimal_text(bars.low[i], ps)},"
                        f"{_decimal_text(bars.close[i], ps)},{_decimal_text(bars.volume[i], vs)},,true\n"
                    )
            columns = ["category", "symbol", "interval", "open_time", "open", "high", "low", "close", "volume"]
            await connection.copy_to_table(
                "market_candles",
                source=io.BytesIO(buffer.getvalue().encode()),
                format="csv",
                columns=[*columns, "turnover", "closed"],
            )
            await connection.execute("ANALYZE market_candles")
            query = (
                "SELECT open_time, open, high, low, close, volume FROM market_candles "
                "WHERE symbol = $1 AND interval = '1m' AND open_time >= $2 AND open_time < $3 ORDER BY open_time"
            )

            async def read_rows() -> None:
                rows = await connection.fetch(query, SYMBOL, start, end)
                assert len(rows) == DAYS * 1440

            bare = await timed(runs, read_rows)
        finally:
            await connection.close()
        database = Database(sqlalchemy_url)
        try:

            async def read_records() -> None:
                async with SqlAlchemyUnitOfWork(database) as uow:
                    candles = await uow.candles.range(SYMBOL, start, end)
                assert len(candles) == DAYS * 1440

            records = await timed(max(1, runs // 2), read_records)
        finally:
            await database.dispose()
        return bare, records
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


# -- Replay throughput --------------------------------------------------------------------------


async def throughput(
    store: ParquetCandleStore, files: list[CandleFile], bars_to_play: int, resting: int
) -> tuple[list[float], int]:
    """Bars per second through one session's engine (four ticks a bar), no pacing; and orders resting."""
    database = MemoryDatabase()
    for entry in files:
        database.tables.candle_files[(entry.category, entry.symbol, entry.day)] = entry
    wall = FixedClock(1_750_000_000_000)
    catalog = default_catalog()

    def uow() -> MemoryUnitOfWork:
        return MemoryUnitOfWork(database)

    ids = iter(range(1, 10**9))
    ports = Ports(uow=uow, bars=MemoryReplayBarBus(), events=MemoryEventBus(), catalog=catalog, wall=wall)
    cache = BarCache(store)
    runner = ReplayRunner(ports, cache, MemoryReplayInbox(), owner="bench")
    service = ReplayService(
        uow, AccountService(uow, wall, lambda: f"acc-{next(ids)}"), cache, runner, catalog, wall, lambda: "rep-1"
    )
    # Day 100 of the year; earlier when fewer days are generated (the smallest run).
    first = min(100, max(0, DAYS - (1440 + 3 * bars_to_play) // 1440 - 2))
    view = await service.create("bench", SYMBOL, day_start_ms(FIRST_DAY + timedelta(days=first)), "1000")
    session = view.session
    active = await runner.acquire(session.replay_id)
    await runner.play_now(session.replay_id, 1)
    for n in range(resting):
        side = Side.BUY if n % 2 == 0 else Side.SELL
        # Far from any price of the year: they rest, and every tick still checks them.
        price = Decimal(5000 + n) if side is Side.BUY else Decimal(90000 + n)
        command = PlaceOrder(
            session.account_id, SYMBOL, side, OrderType.LIMIT, Decimal("0.001"), price, order_id=f"order-{n}"
        )
        await active.handle(command)
    assert len(active.engine.open_orders(session.account_id)) == resting
    ahead = min(3 * bars_to_play // 1440 + 3, DAYS - first)
    await cache.days(SYMBOL, [FIRST_DAY + timedelta(days=first + d) for d in range(ahead)])
    await runner.play_now(session.replay_id, 1440)  # warm-up: one day
    rates = []
    for _ in range(3):  # three stretches, one after the other: the best and the median are reported
        start = time.perf_counter()
        played = await runner.play_now(session.replay_id, bars_to_play)
        rates.append(played / (time.perf_counter() - start))
        assert played == bars_to_play
    return rates, len(active.engine.open_orders(session.account_id))


# -- main ---------------------------------------------------------------------------------------


async def main(runs: int, bars_to_play: int) -> int:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    print(f"tradesim bench/replay.py  (python {sys.version.split()[0]}, {os.cpu_count()} CPUs)")
    started = time.perf_counter()
    year = synthetic_year()
    days = [b.day for b in year]
    print(
        f"synthetic year: {len(year)} days, {sum(len(b) for b in year):,} bars, seed {SEED} "
        f"({time.perf_counter() - started:.1f} s to generate)"
    )

    with tempfile.TemporaryDirectory(prefix="tradesim-bench-") as folder:
        local = local_candle_store(Path(folder), price_scales={SYMBOL: PRICE_SCALE})
        files = await write_year(local, year)
        size = await asyncio.to_thread(lambda: sum(p.stat().st_size for p in Path(folder).rglob("*.parquet")))
        print(f"local folder: {len(year)} files, {size / 2**20:.1f} MiB ({size // len(year) / 1024:.1f} KiB a day)")
        await load_year(local, days)  # warm-up: imports, first thread hops
        local_times = await timed(runs, lambda: load_year(local, days))
        cache = BarCache(local, max_bytes=2**31)
        await cache.days(SYMBOL, days)
        print(f"replay cache holds the year in {cache.bytes / 2**20:.1f} MiB of integer columns")

        from moto.server import ThreadedMotoServer

        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        try:
            host, port = server.get_host_and_port()
            location = S3Location(
                bucket="tradesim-bench",
                prefix="history",
                endpoint_url=f"http://{host}:{port}",
                region="us-east-1",
                access_key="bench",
                secret_key="bench",
            )
            objects = S3Objects(location)
            objects.client.create_bucket(Bucket=location.bucket)
            s3 = s3_candle_store(objects, price_scales={SYMBOL: PRICE_SCALE})
            await write_year(s3, year)
            s3_times = await timed(max(2, runs // 2), lambda: load_year(s3, days))
        finally:
            server.stop()

        database_url = os.environ.get("TRADESIM_TEST_DATABASE_URL")
        pg_times: list[float] | None = None
        pg_records: list[float] | None = None
        pg_note = "TRADESIM_TEST_DATABASE_URL is not set"
        if database_url:
            try:
                pg_times, pg_records = await postgres_baseline(database_url, year, max(2, runs // 2))
            except Exception as error:  # report it; the other figures still stand
                pg_note = f"{type(error).__name__}: {error}"

        rates = {}
        for resting in (0, 100):
            rates[resting] = await throughput(local, files, bars_to_play, resting)

    print()
    print(f"load {DAYS} days ({DAYS * 1440:,} bars, {DAYS} files) into a replay's cache, cold cache each run")
    print(f"  local folder          {describe(local_times)}")
    print(f"  S3 (moto, loopback)   {describe(s3_times)}")
    if pg_times is not None and pg_records is not None:
        print(f"  PostgreSQL rows       {describe(pg_times)}   market_candles (partitioned), asyncpg rows")
        print(f"  PostgreSQL records    {describe(pg_records)}   the same through the repository, as Candle records")
    else:
        print(f"  PostgreSQL            not measured: {pg_note}")
    print()
    print(f"replay throughput, maximum speed (no pacing), {bars_to_play:,} bars = 4 ticks each through the engine")
    for resting, (measured, still) in rates.items():
        best, median = max(measured), statistics.median(measured)
        print(
            f"  {resting:3d} resting orders   best {best:8,.0f} bars/s   median {median:8,.0f} bars/s"
            f"   ({still} still resting at the end)"
        )
    print()
    best_local = min(local_times)
    verdict_local = "PASS" if best_local < LOCAL_TARGET_MS else "FAIL"
    print(f"{verdict_local}  local folder load {best_local:.1f} ms (target < {LOCAL_TARGET_MS:.0f} ms)")
    ok = verdict_local == "PASS"
    if pg_times is not None:
        speedup = min(pg_times) / best_local
        verdict_pg = "PASS" if speedup >= SPEEDUP_TARGET else "FAIL"
        print(f"{verdict_pg}  {speedup:.1f}x faster than PostgreSQL (target >= {SPEEDUP_TARGET:.0f}x)")
        ok = ok and verdict_pg == "PASS"
    else:
        print("FAIL  PostgreSQL baseline not measured, so the 10x target is not shown")
        ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs of the local load (S3, PostgreSQL: half)")
    parser.add_argument("--bars", type=int, default=14 * 1440, help="bars to play for the throughput figure")
    parser.add_argument("--days", type=int, default=DAYS, help="days of 1m candles generated (a year by default)")
    parser.add_argument("--smallest", action="store_true", help="the smallest run, as the tests run it")
    arguments = parser.parse_args()
    if arguments.smallest:
        arguments.runs, arguments.bars, arguments.days = 1, 200, 3
    DAYS = arguments.days  # read by every step at call time
    status = asyncio.run(main(arguments.runs, arguments.bars))
    sys.exit(0 if arguments.smallest else status)  # the smallest run's figures judge nothing
