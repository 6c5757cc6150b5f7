"""Market data: tables `market_candles` (closed candles from the streamer) and `candle_files` (the
index of the Parquet history in the object store).

On PostgreSQL `market_candles` is partitioned by month on `open_time` (RANGE, epoch ms, UTC
months), with no default partition. The function `tradesim_ensure_candle_partitions(from_ms,
to_ms)`, created by the migration, makes the monthly partitions covering a range (idempotent,
serialised by an advisory lock). The repository calls it inside the writing transaction, for
the month of each candle and the month after (so the next month exists before it begins), the
first time this process writes to a month, and remembers the months once the transaction
commits. Partitions are attached with ATTACH PARTITION, which does not block readers or
writers of the table, so creating one in a busy transaction is harmless.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Column, Date, Integer, PrimaryKeyConstraint, Table, Text, select, text

from tradesim.adapters.sqlalchemy.mapping import RecordMap
from tradesim.adapters.sqlalchemy.metadata import metadata
from tradesim.adapters.sqlalchemy.transaction import Transaction
from tradesim.adapters.sqlalchemy.types import ExactDecimal
from tradesim.domain.history import CandleFile
from tradesim.domain.market import Candle

ENSURE_PARTITIONS = "tradesim_ensure_candle_partitions"
#: Rows per INSERT statement: keeps the bound parameters well under the drivers' limits.
BATCH = 1000

market_candles = Table(
    "market_candles",
    metadata,
    Column("category", Text, nullable=False),
    Column("symbol", Text, nullable=False),
    Column("interval", Text, nullable=False),
    Column("open_time", BigInteger, nullable=False),
    Column("open", ExactDecimal, nullable=False),
    Column("high", ExactDecimal, nullable=False),
    Column("low", ExactDecimal, nullable=False),
    Column("close", ExactDecimal, nullable=False),
    Column("volume", ExactDecimal, nullable=False),
    Column("turnover", ExactDecimal, nullable=True),
    Column("closed", Boolean, nullable=False),
    # Symbol first: the reads are "one symbol's bars over a time range", whatever the category.
    PrimaryKeyConstraint("symbol", "interval", "open_time", "category"),
    postgresql_partition_by="RANGE (open_time)",
)

candle_files = Table(
    "candle_files",
    metadata,
    Column("category", Text, nullable=False),
    Column("symbol", Text, nullable=False),
    Column("day", Date, nullable=False),
    Column("uri", Text, nullable=False),
    Column("rows", Integer, nullable=False),
    Column("checksum", Text, nullable=False),
    PrimaryKeyConstraint("symbol", "day", "category"),
)

CANDLE = RecordMap(Candle)
CANDLE_FILE = RecordMap(CandleFile)
_CANDLE_KEY = ("symbol", "interval", "open_time", "category")
_ENSURE = text(f"SELECT {ENSURE_PARTITIONS}(:from_ms, :to_ms)")


def month_start(ms: int) -> int:
    """Epoch ms of the first instant of the UTC month containing `ms`."""
    moment = datetime.fromtimestamp(ms // 1000, UTC)
    return int(datetime(moment.year, moment.month, 1, tzinfo=UTC).timestamp()) * 1000


def next_month(ms: int) -> int:
    moment = datetime.fromtimestamp(month_start(ms) // 1000, UTC)
    year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    return int(datetime(year, month, 1, tzinfo=UTC).timestamp()) * 1000


class SqlCandleRepository:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def upsert(self, candles: Sequence[Candle]) -> int:
        if not candles:
            return 0
        if self._tx.is_postgres:
            await self._ensure_partitions({month_start(c.open_time) for c in candles})
        # One row per key (the last wins, as a replace would): a statement may not touch a row twice.
        rows: dict[tuple[Any, ...], dict[str, Any]] = {}
        for candle in candles:
            row = CANDLE.to_row(candle)
            rows[tuple(row[k] for k in _CANDLE_KEY)] = row
        unique = list(rows.values())
        for start in range(0, len(unique), BATCH):
            statement = self._tx.insert(market_candles).values(unique[start : start + BATCH])
            await self._tx.execute(
                statement.on_conflict_do_update(
                    index_elements=list(_CANDLE_KEY),
                    set_={name: statement.excluded[name] for name in CANDLE.fields if name not in _CANDLE_KEY},
                )
            )
        return len(candles)

    async def range(self, symbol: str, start_ms: int, end_ms: int, *, interval: str = "1m") -> list[Candle]:
        c = market_candles.c
        query = (
            select(market_candles)
            .where(c.symbol == symbol, c.interval == interval, c.open_time >= start_ms, c.open_time < end_ms)
            .order_by(c.open_time, c.category)
        )
        return [CANDLE.from_row(r) for r in (await self._tx.execute(query)).mappings()]

    async def _ensure_partitions(self, months: set[int]) -> None:
        known = self._tx.database.candle_months
        missing = sorted(months - known)
        if not missing:
            return
        for month in missing:
            # This month and the next: partitions exist before the first candle of a month arrives.
            await self._tx.execute(_ENSURE, {"from_ms": month, "to_ms": next_month(month)})
        # Remembered only once committed: a rolled-back transaction took its partitions with it.
        self._tx.after_commit(lambda: known.update(missing, [next_month(m) for m in missing]))


class SqlCandleFileIndex:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def record(self, entry: CandleFile) -> None:
        await self._tx.upsert(candle_files, CANDLE_FILE.to_row(entry))

    async def get(self, symbol: str, day: date) -> CandleFile | None:
        c = candle_files.c
        query = select(candle_files).where(c.symbol == symbol, c.day == day).order_by(c.category).limit(1)
        row = (await self._tx.execute(query)).mappings().first()
        return None if row is None else CANDLE_FILE.from_row(row)

    async def list(self, symbol: str) -> list[CandleFile]:
        c = candle_files.c
        query = select(candle_files).where(c.symbol == symbol).order_by(c.day, c.category)
        return [CANDLE_FILE.from_row(r) for r in (await self._tx.execute(query)).mappings()]
