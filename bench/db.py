"""Benchmark of the SQL store: fills persisted per second and the read of one month of candles.

    uv run python bench/db.py                 # SQLite (temp file) and PostgreSQL
    uv run python bench/db.py --fills 5000 --streams 16
    uv run python bench/db.py --smallest      # what the test suite runs: it works, figures mean nothing

PostgreSQL comes from TRADESIM_BENCH_DATABASE_URL, else TRADESIM_TEST_DATABASE_URL
(`postgresql+asyncpg://...`, any database on the server); the script creates a database of its
own there, migrates it with the packaged migrations and drops it at the end. Without either
variable only SQLite runs. The in-memory unit of work runs the same workload as the baseline.

A "fill" is what the worker persists for one market order that fills: `record_events` of the
engine's events (order saved, execution inserted, position upserted, one or two ledger entries
and their balance increments) in one transaction, committed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import select, text

from tradesim.adapters.memory.tables import MemoryDatabase
from tradesim.adapters.memory.unit_of_work import MemoryUnitOfWork
from tradesim.adapters.sqlalchemy.database import Database, DatabaseConfig, redacted
from tradesim.adapters.sqlalchemy.market import market_candles
from tradesim.adapters.sqlalchemy.migrate import upgrade_to_head_async
from tradesim.application.persistence import record_events
from tradesim.domain import MatchingEngine, OrderType, PlaceOrder, Side, Ticker, default_catalog
from tradesim.domain.accounts import Account
from tradesim.domain.events import EngineEvent
from tradesim.domain.market import Candle
from tradesim.ports.unit_of_work import UnitOfWork

T0 = 1_700_000_000_000
MONTH_START = int(datetime(2024, 4, 1, tzinfo=UTC).timestamp() * 1000)
MONTH_END = int(datetime(2024, 5, 1, tzinfo=UTC).timestamp() * 1000)
UowFactory = Callable[[], UnitOfWork]


def fill_batches(account_id: str, fills: int, seed: int) -> tuple[list[EngineEvent], list[list[EngineEvent]]]:
    """The events of funding one account and filling `fills` market orders on it, alternately
    opening and closing, so that half the fills also realise PnL."""
    engine = MatchingEngine(default_catalog(), clock=lambda: T0)
    opening = engine.open_account(account_id, Decimal("1000000"))
    rng = random.Random(seed)
    price = Decimal("30000.0")
    batches = []
    for n in range(fills):
        price += Decimal(rng.randint(-50, 50)) / 10
        engine.on_ticker(Ticker.of("BTCUSDT", last=price, bid=price - Decimal("0.1"), ask=price, ts=T0 + n))
        side = Side.BUY if n % 2 == 0 else Side.SELL
        qty = Decimal("0.001") * rng.randint(1, 50)
        batches.append(
            engine.place(PlaceOrder(account_id, "BTCUSDT", side, OrderType.MARKET, qty, order_id=f"{account_id}-{n}"))
        )
    return opening, batches


async def persist(uow_factory: UowFactory, events: list[EngineEvent]) -> None:
    async with uow_factory() as uow:
        await record_events(uow, events)
        await uow.commit()


async def fills_per_second(uow_factory: UowFactory, fills: int, streams: int, tag: str) -> float:
    """`streams` accounts filled at once (one task each, as workers owning different accounts
    would), `fills` fills in all; each fill one transaction. Returns fills per second."""
    per_stream = max(1, fills // streams)
    work = [fill_batches(f"{tag}-{s}", per_stream, seed=s) for s in range(streams)]
    for s, (opening, _) in enumerate(work):
        async with uow_factory() as uow:
            await uow.accounts.add(Account(f"{tag}-{s}", "bench", f"Bench {s}", created_time=T0))
            await record_events(uow, opening)
            await uow.commit()

    async def stream(batches: list[list[EngineEvent]]) -> None:
        for events in batches:
            await persist(uow_factory, events)

    started = time.perf_counter()
    await asyncio.gather(*(stream(batches) for _, batches in work))
    elapsed = time.perf_counter() - started
    async with uow_factory() as uow:  # the figures only count if the books balance
        for s in range(streams):
            balance = (await uow.balances.get(f"{tag}-{s}"))["USDT"]
            assert balance == await uow.ledger.total(f"{tag}-{s}", "USDT"), "balance differs from the ledger"
    return per_stream * streams / elapsed


def month_of_candles(symbol: str, end: int = MONTH_END) -> list[Candle]:
    rng = random.Random(symbol)
    price = Decimal("60000.0")
    out = []
    for open_time in range(MONTH_START, end, 60_000):
        close = price + Decimal(rng.randint(-300, 300)) / 10
        high, low = max(price, close) + Decimal("5.5"), min(price, close) - Decimal("4.5")
        volume = Decimal(rng.randint(1, 500_000)) / 1000
        out.append(Candle(symbol, open_time, price, high, low, close, volume, turnover=(volume * close).quantize(1)))
        price = close
    return out


async def timed(repeats: int, work: Callable[[], Awaitable[object]]) -> list[float]:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        await work()
        times.append(time.perf_counter() - started)
    return times


async def candle_month(uow_factory: UowFactory, database: Database | None, repeats: int, days: int) -> dict[str, float]:
    figures: dict[str, float] = {}
    end = MONTH_START + days * 86_400_000
    for symbol in ("ETHUSDT", "BTCUSDT"):  # another symbol in the same month, so the index must do its job
        candles = month_of_candles(symbol, end)
        started = time.perf_counter()
        async with uow_factory() as uow:
            await uow.candles.upsert(candles)
            await uow.commit()
        figures["write_s"] = time.perf_counter() - started

    rows = 0

    async def read() -> None:
        nonlocal rows
        async with uow_factory() as uow:
            rows = len(await uow.candles.range("BTCUSDT", MONTH_START, end))

    times = await timed(repeats, read)
    figures |= {"rows": rows, "best_s": min(times), "median_s": statistics.median(times)}
    if database is not None:
        c = market_candles.c
        query = select(market_candles).where(
            c.symbol == "BTCUSDT", c.interval == "1m", c.open_time >= MONTH_START, c.open_time < end
        )

        async def fetch_rows() -> None:
            async with database.engine.connect() as connection:
                (await connection.execute(query.order_by(c.open_time))).all()

        figures["sql_only_best_s"] = min(await timed(repeats, fetch_rows))
    return figures


async def run_backend(name: str, uow_factory: UowFactory, database: Database | None, args: argparse.Namespace) -> None:
    sequential = await fills_per_second(uow_factory, args.fills, 1, f"{name}-seq")
    concurrent = await fills_per_second(uow_factory, args.fills, args.streams, f"{name}-par")
    candles = await candle_month(uow_factory, database, args.repeats, args.days)
    print(f"\n[{name}]")
    print(f"  fills persisted, one stream:          {sequential:9.0f} fills/s  ({1000 / sequential:.2f} ms per fill)")
    print(f"  fills persisted, {args.streams:2d} streams at once:  {concurrent:9.0f} fills/s")
    span = f"{args.days} days of 1m candles"
    print(f"  write {span} ({candles['rows']:,.0f} rows, one transaction): {candles['write_s']:.2f} s")
    print(
        f"  read {span} for a symbol ({candles['rows']:.0f} rows as Candle records): "
        f"best {candles['best_s'] * 1000:.0f} ms, median {candles['median_s'] * 1000:.0f} ms "
        f"({candles['rows'] / candles['best_s']:,.0f} rows/s)"
    )
    if "sql_only_best_s" in candles:
        print(
            f"    of which fetching the rows alone (no records built): best {candles['sql_only_best_s'] * 1000:.0f} ms"
        )


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


async def _admin(url: str, sql: str) -> None:
    import asyncpg  # type: ignore[import-untyped]

    connection = await asyncpg.connect(
        _with_database(url, "postgres").replace("postgresql+asyncpg://", "postgresql://")
    )
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


async def main(args: argparse.Namespace) -> None:
    print(f"bench/db.py: {args.fills} fills per run, {args.streams} concurrent streams, {args.repeats} reads")
    print(f"python {sys.version.split()[0]}, sqlite {__import__('sqlite3').sqlite_version}")

    memory = MemoryDatabase()
    await run_backend("memory (baseline)", lambda: MemoryUnitOfWork(memory), None, args)

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.sqlite3'}"
        await upgrade_to_head_async(url)
        database = Database(url, DatabaseConfig(pool_size=args.streams, max_overflow=0))
        try:
            await run_backend("sqlite (file, WAL)", lambda: _sql_uow(database), database, args)
        finally:
            await database.dispose()

    server = os.environ.get("TRADESIM_BENCH_DATABASE_URL") or os.environ.get("TRADESIM_TEST_DATABASE_URL")
    if not server:
        print("\n[postgresql] skipped: set TRADESIM_BENCH_DATABASE_URL (or TRADESIM_TEST_DATABASE_URL)")
        return
    name = f"tradesim_bench_{uuid.uuid4().hex[:10]}"
    await _admin(server, f'CREATE DATABASE "{name}"')
    try:
        url = _with_database(server, name)
        await upgrade_to_head_async(url)
        database = Database(url, DatabaseConfig(pool_size=args.streams, max_overflow=0))
        try:
            async with database.engine.connect() as connection:
                version = (await connection.execute(text("SHOW server_version"))).scalar()
            print(f"\npostgresql {version} at {redacted(url)}")
            await run_backend("postgresql (asyncpg)", lambda: _sql_uow(database), database, args)
        finally:
            await database.dispose()
    finally:
        await _admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _sql_uow(database: Database) -> UnitOfWork:
    from tradesim.adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork

    return SqlAlchemyUnitOfWork(database)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fills", type=int, default=2000, help="fills persisted per run (default 2000)")
    parser.add_argument("--streams", type=int, default=8, help="accounts filled at once in the concurrent run")
    parser.add_argument("--repeats", type=int, default=5, help="reads of the month of candles")
    parser.add_argument("--days", type=int, default=30, choices=range(1, 31), metavar="1..30", help="days of candles")
    parser.add_argument(
        "--smallest", action="store_true", help="the smallest run (the test suite's check that it works)"
    )
    arguments = parser.parse_args()
    if arguments.smallest:
        arguments.fills, arguments.streams, arguments.repeats, arguments.days = 20, 2, 1, 1
    asyncio.run(main(arguments))
