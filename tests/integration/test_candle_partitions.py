"""`market_candles` on PostgreSQL: monthly partitions made on demand, safely under concurrency."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import text

from tests.integration.databases import empty_tables
from tradesim.adapters.sqlalchemy.database import Database
from tradesim.adapters.sqlalchemy.market import month_start, next_month
from tradesim.adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from tradesim.domain.market import Candle

pytestmark = pytest.mark.integration


@pytest.fixture
async def database(migrated_postgres_url: str) -> AsyncIterator[Database]:
    database = Database(migrated_postgres_url)
    await empty_tables(database)
    try:
        yield database
    finally:
        await database.dispose()


def ms(year: int, month: int, day: int = 1, hour: int = 0) -> int:
    return int(datetime(year, month, day, hour, tzinfo=UTC).timestamp() * 1000)


def candle(open_time: int, symbol: str = "BTCUSDT") -> Candle:
    price = Decimal("42000.5")
    return Candle(symbol, open_time, price, price, price, price, Decimal("1.25"))


async def partitions(database: Database) -> set[str]:
    async with database.engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = 'market_candles'::regclass")
        )
        return {name for (name,) in rows}


def test_month_boundaries_are_utc() -> None:
    assert month_start(ms(2024, 2, 29, 23) + 59 * 60_000) == ms(2024, 2)
    assert next_month(ms(2024, 12, 31, 23)) == ms(2025, 1)
    assert month_start(ms(2025, 1)) == ms(2025, 1)


async def test_writing_to_a_new_month_creates_it_and_the_next(database: Database) -> None:
    async with SqlAlchemyUnitOfWork(database) as uow:
        await uow.candles.upsert([candle(ms(2033, 12, 31, 23))])
        await uow.commit()
    assert {"market_candles_y2033m12", "market_candles_y2034m01"} <= await partitions(database)
    assert {ms(2033, 12), ms(2034, 1)} <= database.candle_months
    async with database.engine.connect() as connection:
        landed = await connection.scalar(text("SELECT count(*) FROM market_candles_y2033m12"))
    assert landed == 1


async def test_a_rolled_back_write_forgets_the_months_it_created(database: Database) -> None:
    async with SqlAlchemyUnitOfWork(database) as uow:
        await uow.candles.upsert([candle(ms(2035, 6, 10))])
    assert ms(2035, 6) not in database.candle_months
    assert "market_candles_y2035m06" not in await partitions(database)
    async with SqlAlchemyUnitOfWork(database) as uow:
        await uow.candles.upsert([candle(ms(2035, 6, 10))])
        await uow.commit()
    assert "market_candles_y2035m06" in await partitions(database)


async def test_concurrent_writers_reaching_a_new_month_both_succeed(migrated_postgres_url: str) -> None:
    """Two processes (two engines, two caches) write the first candles of the same new month."""
    first, second = Database(migrated_postgres_url), Database(migrated_postgres_url)
    try:

        async def write(database: Database, symbol: str) -> None:
            async with SqlAlchemyUnitOfWork(database) as uow:
                await uow.candles.upsert([candle(ms(2037, 4, 2) + n * 60_000, symbol) for n in range(60)])
                await asyncio.sleep(0.05)
                await uow.commit()

        await asyncio.gather(write(first, "BTCUSDT"), write(second, "ETHUSDT"))
        async with SqlAlchemyUnitOfWork(first) as uow:
            assert len(await uow.candles.range("ETHUSDT", ms(2037, 4), ms(2037, 5))) == 60
            assert len(await uow.candles.range("BTCUSDT", ms(2037, 4), ms(2037, 5))) == 60
    finally:
        await first.dispose()
        await second.dispose()


async def test_a_new_month_does_not_wait_for_readers_of_the_table(database: Database) -> None:
    """Attaching a partition must not queue behind (or block) a transaction that reads candles."""
    async with SqlAlchemyUnitOfWork(database) as reader:
        await reader.candles.range("BTCUSDT", 0, ms(2100, 1))  # holds its lock on market_candles till the end
        async with SqlAlchemyUnitOfWork(database) as writer:
            await asyncio.wait_for(writer.candles.upsert([candle(ms(2039, 9, 9))]), timeout=5)
            await writer.commit()
        # The reader's own transaction may write to another new month after reading.
        await asyncio.wait_for(reader.candles.upsert([candle(ms(2041, 1, 1))]), timeout=5)
        await reader.commit()
    async with SqlAlchemyUnitOfWork(database) as uow:
        assert len(await uow.candles.range("BTCUSDT", ms(2039, 1), ms(2042, 1))) == 2
