"""Recording a batch's `Outcome`: on PostgreSQL one statement for every table it writes.

A worker records an outcome per batch of orders, and each round trip to the server costs it
(and the server) more than the rows do: the five writes as separate statements, between a
BEGIN and a COMMIT, were seven round trips per batch. One statement of data-modifying WITH
queries does them all, and a single statement is atomic on its own, so it needs no BEGIN or
COMMIT either (`SqlAlchemyUnitOfWork(single_statement=True)`). The new ledger entries feed the
balance increments inside the statement (RETURNING), so an entry stored already moves nothing.

SQLite runs the repositories' own statements, inside the unit of work's transaction.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Dialect

from tradesim.adapters.sqlalchemy.accounts import (
    LEDGER_ENTRY,
    SqlBalanceRepository,
    SqlLedgerRepository,
    balances,
    ledger_entries,
)
from tradesim.adapters.sqlalchemy.driver_sql import (
    DriverStatement,
    columns_of,
    insert_from_arrays,
    insert_new_from_arrays,
    upsert_from_arrays,
)
from tradesim.adapters.sqlalchemy.orders import (
    EXECUTION,
    ORDER,
    SqlExecutionRepository,
    SqlOrderRepository,
    executions,
    orders,
)
from tradesim.adapters.sqlalchemy.positions import POSITION, SqlPositionRepository, positions
from tradesim.adapters.sqlalchemy.transaction import Transaction
from tradesim.domain.outcomes import Outcome, balance_moves

#: Built on first use (it needs the dialect), then kept for the life of the process.
_STATEMENT: list[tuple[str, tuple[DriverStatement, ...]]] = []


class SqlOutcomeRepository:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def record(self, outcome: Outcome) -> None:
        if not outcome:
            return
        if self._tx.driver is None:
            await self._record_by_table(outcome)
            return
        sql, parts = _statement(self._tx.connection.dialect)
        rows = (
            [LEDGER_ENTRY.to_row(e) for e in outcome.entries],
            [EXECUTION.to_row(e) for e in outcome.executions],
            [ORDER.to_row(o) for o in outcome.orders],
            [POSITION.to_row(p) for p in outcome.positions],
        )
        arguments: list[Any] = []
        for part, part_rows in zip(parts, rows, strict=True):
            arguments.extend(columns_of(part, part_rows))
        await self._tx.run(self._tx.driver.execute, sql, *arguments)

    async def _record_by_table(self, outcome: Outcome) -> None:
        tx = self._tx
        stored = await SqlLedgerRepository(tx).add_many(outcome.entries)
        await SqlExecutionRepository(tx).add_many(outcome.executions)
        await SqlBalanceRepository(tx).apply_many(balance_moves(e for e in outcome.entries if e.entry_id in stored))
        await SqlOrderRepository(tx).save_many(outcome.orders)
        await SqlPositionRepository(tx).save_many(outcome.positions)


def _statement(dialect: Dialect) -> tuple[str, tuple[DriverStatement, ...]]:
    if not _STATEMENT:
        _STATEMENT.append(build_outcome_statement(dialect))
    return _STATEMENT[0]


def build_outcome_statement(dialect: Dialect) -> tuple[str, tuple[DriverStatement, ...]]:
    """The statement's SQL and its four INSERTs of arrays, whose parameters follow one another:
    ledger entries, executions, orders, positions (`columns_of` each, in that order)."""
    quote = dialect.identifier_preparer.quote
    entry_columns = ", ".join(quote(c) for c in ("account_id", "coin", "amount"))
    new_entries = insert_from_arrays(ledger_entries, dialect, f"DO NOTHING RETURNING {entry_columns}")
    new_executions = insert_new_from_arrays(executions, executions.c.exec_id, dialect, first=1 + len(new_entries.names))
    saved_orders = upsert_from_arrays(orders, dialect, first=1 + len(new_entries.names) + len(new_executions.names))
    saved_positions = upsert_from_arrays(
        positions, dialect, first=1 + len(new_entries.names) + len(new_executions.names) + len(saved_orders.names)
    )
    # Balance rows are locked in key order, byte-wise as Python sorts the keys of
    # `apply_many`, so that two writers moving the same balances cannot deadlock.
    account, coin, amount, table = (quote(n) for n in ("account_id", "coin", "amount", balances.name))
    moved = (
        f"INSERT INTO {table} ({account}, {coin}, {amount}) "
        f"SELECT {account}, {coin}, sum({amount}) FROM new_entries GROUP BY {account}, {coin} "
        f'ORDER BY {account} COLLATE "C", {coin} COLLATE "C" '
        f"ON CONFLICT ({account}, {coin}) DO UPDATE SET {amount} = {table}.{amount} + excluded.{amount}"
    )
    sql = (
        f"WITH new_entries AS ({new_entries.sql}), "
        f"moved AS ({moved}), "
        f"new_executions AS ({new_executions.sql}), "
        f"saved_orders AS ({saved_orders.sql}), "
        f"saved_positions AS ({saved_positions.sql}) "
        "SELECT count(*) FROM new_entries"
    )
    return sql, (new_entries, new_executions, saved_orders, saved_positions)
