"""Positions, one per (account, symbol): table `positions`."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import BigInteger, Column, PrimaryKeyConstraint, Table, Text, bindparam, select

from tradesim.adapters.sqlalchemy.mapping import RecordMap
from tradesim.adapters.sqlalchemy.metadata import metadata
from tradesim.adapters.sqlalchemy.transaction import Transaction
from tradesim.adapters.sqlalchemy.types import ExactDecimal
from tradesim.domain.positions import Position

positions = Table(
    "positions",
    metadata,
    Column("account_id", Text, nullable=False),
    Column("symbol", Text, nullable=False),
    Column("leverage", ExactDecimal, nullable=False),
    Column("margin_mode", Text, nullable=False),
    Column("side", Text, nullable=True),
    Column("size", ExactDecimal, nullable=False),
    Column("entry_value", ExactDecimal, nullable=False),
    Column("cum_realised_pnl", ExactDecimal, nullable=False),
    Column("take_profit", ExactDecimal, nullable=True),
    Column("stop_loss", ExactDecimal, nullable=True),
    Column("tp_trigger_by", Text, nullable=False),
    Column("sl_trigger_by", Text, nullable=False),
    Column("liq_price", ExactDecimal, nullable=True),
    Column("bust_price", ExactDecimal, nullable=True),
    Column("created_time", BigInteger, nullable=False),
    Column("updated_time", BigInteger, nullable=False),
    PrimaryKeyConstraint("account_id", "symbol"),
)

POSITION = RecordMap(Position)

_POSITION = select(positions).where(
    positions.c.account_id == bindparam("account_id"), positions.c.symbol == bindparam("symbol")
)
_POSITIONS_OF_ACCOUNT = (
    select(positions).where(positions.c.account_id == bindparam("account_id")).order_by(positions.c.symbol)
)


class SqlPositionRepository:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def save(self, position: Position) -> None:
        await self._tx.upsert(positions, POSITION.to_row(position))

    async def save_many(self, records: Sequence[Position]) -> None:
        # One row per key (the last state): a multi-row upsert may not touch a row twice.
        last = {(p.account_id, p.symbol): p for p in records}
        if last:
            await self._tx.upsert(positions, [POSITION.to_row(p) for p in last.values()])

    async def get(self, account_id: str, symbol: str) -> Position | None:
        row = (await self._tx.execute(_POSITION, {"account_id": account_id, "symbol": symbol})).mappings().first()
        return None if row is None else POSITION.from_row(row)

    async def list_by_account(self, account_id: str) -> list[Position]:
        rows = await self._tx.execute(_POSITIONS_OF_ACCOUNT, {"account_id": account_id})
        return [POSITION.from_row(r) for r in rows.mappings()]
