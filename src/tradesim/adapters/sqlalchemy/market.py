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

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    Integer,
    PrimaryKeyConstraint,
    Table,
    Text,
    bindparam,
    select,
    text,
)

from tradesim.adapters.sqlalchemy.mapping import RecordMap
from tradesim.adapters.sqlalchemy.metadata import metadata
from tradesim.adapters.sqlalchemy.transaction import Transaction
from tradesim.adapters.sqlalchemy.types import ExactDecimal
from tradesim.domain.history import CandleFile
from tradesim.domain.market import Candle

ENSURE_PARTITIONS = "tradesim_ensure_candle_partitions"

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
_c, _f = market_candles.c, candle_files.c
_RANGE = (
    select(market_candles)
    .where(
        _c.symbol == bindparam("symbol"),
        _c.interval == bindparam("interval"),
        _c.open_time >= bindparam("start"),
        _c.open_time < bindparam("end"),
    )
    .order_by(_c.open_time, _c.category)
)
_FILE = select(candle_files).where(_f.symbol == bindparam("symbol"), _f.day == bindparam("day")).order_by(_f.category)
_FILES = select(candle_files).where(_f.symbol == bindparam("symbol")).order_by(_f.day, _f.category)


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
        # One statement on PostgreSQL (an array per column); SQLAlchemy's multi-row INSERTs on SQLite.
        await self._tx.upsert(market_candles, list(rows.values()))
        return len(candles)

    async def range(self, symbol: str, start_ms: int, end_ms: int, *, interval: str = "1m") -> list[Candle]:
        where = {"symbol": symbol, "interval": interval, "start": start_ms, "end": end_ms}
        return [CANDLE.from_row(r) for r in (await self._tx.execute(_RANGE, where)).mappings()]

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
        row = (await self._tx.execute(_FILE, {"symbol": symbol, "day": day})).mappings().first()
        return None if row is None else CANDLE_FILE.from_row(row)

    async def list(self, symbol: str) -> list[CandleFile]:
        return [CANDLE_FILE.from_row(r) for r in (await self._tx.execute(_FILES, {"symbol": symbol})).mappings()]
