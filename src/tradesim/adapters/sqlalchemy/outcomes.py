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
    insert_from_rows,
    insert_new_from_rows,
    upsert_from_rows,
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


class SqlOutcomeRepository:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def record(self, outcome: Outcome) -> None:
        if not outcome:
            return
        if self._tx.driver is None:
            await self._record_by_table(outcome)
            return
        rows = (
            [LEDGER_ENTRY.to_row(e) for e in outcome.entries],
            [EXECUTION.to_row(e) for e in outcome.executions],
            [ORDER.to_row(o) for o in outcome.orders],
            [POSITION.to_row(p) for p in outcome.positions],
        )
        dialect = self._tx.connection.dialect
        await self._tx.fetch_rows(("outcome",), lambda: build_outcome_statement(dialect), *rows)

    async def _record_by_table(self, outcome: Outcome) -> None:
        tx = self._tx
        stored = await SqlLedgerRepository(tx).add_many(outcome.entries)
        await SqlExecutionRepository(tx).add_many(outcome.executions)
        await SqlBalanceRepository(tx).apply_many(balance_moves(e for e in outcome.entries if e.entry_id in stored))
        await SqlOrderRepository(tx).save_many(outcome.orders)
        await SqlPositionRepository(tx).save_many(outcome.positions)


def build_outcome_statement(dialect: Dialect) -> DriverStatement:
    """The statement; its parameters are four arrays of rows (`rows_argument`): ledger entries,
    executions, orders, positions."""
    quote = dialect.identifier_preparer.quote
    entry_columns = ", ".join(quote(c) for c in ("account_id", "coin", "amount"))
    new_entries = insert_from_rows(ledger_entries, dialect, f"DO NOTHING RETURNING {entry_columns}", parameter=1)
    new_executions = insert_new_from_rows(executions, executions.c.exec_id, dialect, parameter=2)
    saved_orders = upsert_from_rows(orders, dialect, parameter=3)
    saved_positions = upsert_from_rows(positions, dialect, parameter=4)
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
    return DriverStatement(sql, ("entries", "executions", "orders", "positions"))
