"""Orders and their fills: tables `orders`, `executions`."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import BigInteger, Boolean, Column, Index, SmallInteger, Table, Text, bindparam, select, text

from tradesim.adapters.sqlalchemy.mapping import RecordMap
from tradesim.adapters.sqlalchemy.metadata import metadata
from tradesim.adapters.sqlalchemy.transaction import Transaction
from tradesim.adapters.sqlalchemy.types import ExactDecimal
from tradesim.domain.enums import OrderStatus
from tradesim.domain.executions import Execution
from tradesim.domain.orders import Order

OPEN_STATUSES = tuple(s.value for s in OrderStatus if s.is_open)
#: Statuses an order can have before an engine took it in (see `Order.accepted_time`).
PENDING_STATUSES = (OrderStatus.NEW.value, OrderStatus.UNTRIGGERED.value)
#: Conditions of the partial indexes (spelled once: the migration creates the same ones).
HAS_LINK_ID = "order_link_id <> ''"
IS_OPEN = "status IN ('New', 'PartiallyFilled', 'Untriggered')"
UNACCEPTED = "accepted_time = 0"

orders = Table(
    "orders",
    metadata,
    Column("order_id", Text, primary_key=True),
    Column("account_id", Text, nullable=False),
    Column("symbol", Text, nullable=False),
    Column("side", Text, nullable=False),
    Column("order_type", Text, nullable=False),
    Column("qty", ExactDecimal, nullable=False),
    Column("status", Text, nullable=False),
    Column("created_time", BigInteger, nullable=False),
    Column("updated_time", BigInteger, nullable=False),
    Column("category", Text, nullable=False),
    Column("price", ExactDecimal, nullable=True),
    Column("time_in_force", Text, nullable=False),
    Column("order_link_id", Text, nullable=False),
    Column("reduce_only", Boolean, nullable=False),
    Column("close_on_trigger", Boolean, nullable=False),
    Column("trigger_price", ExactDecimal, nullable=True),
    Column("trigger_direction", SmallInteger, nullable=True),
    Column("trigger_by", Text, nullable=False),
    Column("take_profit", ExactDecimal, nullable=True),
    Column("stop_loss", ExactDecimal, nullable=True),
    Column("tp_trigger_by", Text, nullable=False),
    Column("sl_trigger_by", Text, nullable=False),
    Column("stop_order_type", Text, nullable=False),
    Column("create_type", Text, nullable=False),
    Column("cum_exec_qty", ExactDecimal, nullable=False),
    Column("cum_exec_value", ExactDecimal, nullable=False),
    Column("cum_exec_fee", ExactDecimal, nullable=False),
    Column("reject_reason", Text, nullable=False),
    Column("reject_message", Text, nullable=False),
    Column("cancel_type", Text, nullable=False),
    Column("accepted_time", BigInteger, nullable=False),
    Index(None, "account_id", "created_time"),
    # orderLinkId is the client's idempotency key: unique per account when given at all.
    Index(
        "uq_orders_account_id_order_link_id",
        "account_id",
        "order_link_id",
        unique=True,
        postgresql_where=text(HAS_LINK_ID),
        sqlite_where=text(HAS_LINK_ID),
    ),
    # Small partial indexes for the two scans a restart and the sweeper make.
    Index("ix_orders_open", "created_time", postgresql_where=text(IS_OPEN), sqlite_where=text(IS_OPEN)),
    Index("ix_orders_unaccepted", "created_time", postgresql_where=text(UNACCEPTED), sqlite_where=text(UNACCEPTED)),
)

executions = Table(
    "executions",
    metadata,
    Column("exec_id", Text, primary_key=True),
    Column("order_id", Text, nullable=False),
    Column("account_id", Text, nullable=False),
    Column("symbol", Text, nullable=False),
    Column("side", Text, nullable=False),
    Column("exec_price", ExactDecimal, nullable=False),
    Column("exec_qty", ExactDecimal, nullable=False),
    Column("exec_fee", ExactDecimal, nullable=False),
    Column("fee_rate", ExactDecimal, nullable=False),
    Column("is_maker", Boolean, nullable=False),
    Column("exec_time", BigInteger, nullable=False),
    Column("order_type", Text, nullable=False),
    Column("category", Text, nullable=False),
    Column("exec_type", Text, nullable=False),
    Column("closed_size", ExactDecimal, nullable=False),
    Column("exec_pnl", ExactDecimal, nullable=False),
    Column("order_link_id", Text, nullable=False),
    Column("fee_coin", Text, nullable=False),
    Index(None, "account_id", "exec_time"),
    Index(None, "order_id", "exec_time"),
)

ORDER = RecordMap(Order)
EXECUTION = RecordMap(Execution)

_ORDER_BY_ID = select(orders).where(orders.c.order_id == bindparam("order_id"))
_ORDER_BY_LINK_ID = (
    select(orders)
    .where(orders.c.account_id == bindparam("account_id"), orders.c.order_link_id == bindparam("order_link_id"))
    .limit(1)
)
_NEWEST_FIRST = (orders.c.created_time.desc(), orders.c.order_id.desc())
_ORDERS_OF_ACCOUNT = (
    select(orders)
    .where(orders.c.account_id == bindparam("account_id"))
    .order_by(*_NEWEST_FIRST)
    .limit(bindparam("limit"))
)
_OPEN_ORDERS_OF_ACCOUNT = (
    select(orders)
    .where(orders.c.account_id == bindparam("account_id"), orders.c.status.in_(OPEN_STATUSES))
    .order_by(*_NEWEST_FIRST)
    .limit(bindparam("limit"))
)
_UNACCEPTED = (
    select(orders)
    .where(
        orders.c.accepted_time == 0,
        orders.c.status.in_(PENDING_STATUSES),
        orders.c.created_time < bindparam("before"),
    )
    .order_by(orders.c.created_time, orders.c.order_id)
    .limit(bindparam("limit"))
)
_EXECUTIONS_OF_ACCOUNT = (
    select(executions)
    .where(executions.c.account_id == bindparam("account_id"))
    .order_by(executions.c.exec_time.desc(), executions.c.exec_id.desc())
    .limit(bindparam("limit"))
)
_EXECUTIONS_OF_ORDER = (
    select(executions)
    .where(executions.c.order_id == bindparam("order_id"))
    .order_by(executions.c.exec_time, executions.c.exec_id)
)


#: An engine has taken the order in: it was accepted, or it has ended (spelled out as constants,
#: so that the statement's text is fixed and it can run as driver SQL).
TAKEN_IN = "accepted_time <> 0 OR status IN ({})".format(
    ", ".join(f"'{s.value}'" for s in OrderStatus if s.is_terminal)
)


def _taken_in(tx: Transaction) -> Any:
    return select(orders.c.order_id).where(tx.one_of(orders.c.order_id), text(f"({TAKEN_IN})"))


class SqlOrderRepository:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def add_new_many(self, records: Sequence[Order]) -> set[str]:
        # One statement (an INSERT of an array of rows on PostgreSQL, multi-row VALUES on
        # SQLite), so all or nothing even in a single-statement unit of work; ON CONFLICT DO
        # NOTHING covers every unique index, the orderLinkId one too.
        rows = [ORDER.to_row(o) for o in records]
        inserted: set[str] = await self._tx.insert_new_many(orders, rows, orders.c.order_id)
        return inserted

    async def save(self, order: Order) -> None:
        await self._tx.upsert(orders, ORDER.to_row(order))

    async def save_many(self, records: Sequence[Order]) -> None:
        # One row per key (the last state): a multi-row upsert may not touch a row twice.
        last = {o.order_id: o for o in records}
        if last:
            await self._tx.upsert(orders, [ORDER.to_row(o) for o in last.values()])

    async def taken_in(self, order_ids: Collection[str]) -> set[str]:
        statement = self._tx.prepared("orders_taken_in", _taken_in)
        return {r["order_id"] for r in await self._tx.execute_in(statement, order_ids)}

    async def get(self, order_id: str) -> Order | None:
        row = (await self._tx.execute(_ORDER_BY_ID, {"order_id": order_id})).mappings().first()
        return None if row is None else ORDER.from_row(row)

    async def get_by_link_id(self, account_id: str, order_link_id: str) -> Order | None:
        where = {"account_id": account_id, "order_link_id": order_link_id}
        row = (await self._tx.execute(_ORDER_BY_LINK_ID, where)).mappings().first()
        return None if row is None else ORDER.from_row(row)

    async def list_by_account(self, account_id: str, *, open_only: bool = False, limit: int = 100) -> list[Order]:
        query = _OPEN_ORDERS_OF_ACCOUNT if open_only else _ORDERS_OF_ACCOUNT
        rows = await self._tx.execute(query, {"account_id": account_id, "limit": limit})
        return [ORDER.from_row(r) for r in rows.mappings()]

    async def list_open(self, account_ids: Sequence[str] | None = None) -> list[Order]:
        query = select(orders).where(orders.c.status.in_(OPEN_STATUSES))
        if account_ids is not None:
            query = query.where(orders.c.account_id.in_(list(account_ids)))
        query = query.order_by(orders.c.created_time, orders.c.order_id)
        return [ORDER.from_row(r) for r in (await self._tx.execute(query)).mappings()]

    async def list_unaccepted(self, created_before: int, *, limit: int = 1000) -> list[Order]:
        rows = await self._tx.execute(_UNACCEPTED, {"before": created_before, "limit": limit})
        return [ORDER.from_row(r) for r in rows.mappings()]


class SqlExecutionRepository:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def add(self, execution: Execution) -> bool:
        # Like the ledger: a redelivered fill finds its exec_id and changes nothing.
        return await self._tx.insert_new(executions, EXECUTION.to_row(execution), executions.c.exec_id)

    async def add_many(self, records: Sequence[Execution]) -> set[str]:
        rows = [EXECUTION.to_row(e) for e in records]
        inserted: set[str] = await self._tx.insert_new_many(executions, rows, executions.c.exec_id)
        return inserted

    async def list_by_account(self, account_id: str, *, limit: int = 100) -> list[Execution]:
        rows = await self._tx.execute(_EXECUTIONS_OF_ACCOUNT, {"account_id": account_id, "limit": limit})
        return [EXECUTION.from_row(r) for r in rows.mappings()]

    async def list_by_order(self, order_id: str) -> list[Execution]:
        rows = await self._tx.execute(_EXECUTIONS_OF_ORDER, {"order_id": order_id})
        return [EXECUTION.from_row(r) for r in rows.mappings()]
