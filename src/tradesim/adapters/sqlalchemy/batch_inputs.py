"""A worker's reads before a batch: on PostgreSQL one statement for both.

Before each batch a worker asks which of its orders an engine took in already (a redelivery)
and the balances of the accounts it names. Each statement costs the worker and the server a
round trip and its fixed work, more than these few rows; so on PostgreSQL the two reads are one
statement, the order ids and the balance rows coming back as the two halves of a UNION ALL.
SQLite runs the repositories' own reads.
"""

from __future__ import annotations

from collections.abc import Collection
from decimal import Decimal

from sqlalchemy.engine import Dialect

from tradesim.adapters.sqlalchemy.accounts import SqlBalanceRepository, balances
from tradesim.adapters.sqlalchemy.driver_sql import DriverStatement
from tradesim.adapters.sqlalchemy.orders import TAKEN_IN, SqlOrderRepository, orders
from tradesim.adapters.sqlalchemy.transaction import Transaction
from tradesim.ports.repositories import BatchInputs


class SqlBatchInputRepository:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def read(self, order_ids: Collection[str], account_ids: Collection[str]) -> BatchInputs:
        if self._tx.driver is None:
            taken_in = await SqlOrderRepository(self._tx).taken_in(order_ids)
            return BatchInputs(frozenset(taken_in), await SqlBalanceRepository(self._tx).get_many(account_ids))
        dialect = self._tx.connection.dialect
        arguments = {"order_ids": list(dict.fromkeys(order_ids)), "account_ids": list(dict.fromkeys(account_ids))}
        found: dict[str, dict[str, Decimal]] = {account_id: {} for account_id in arguments["account_ids"]}
        taken: set[str] = set()
        for key, coin, amount in await self._tx.fetch(("batch_inputs",), lambda: build_statement(dialect), arguments):
            if coin is None:
                taken.add(key)
            else:
                found[key][coin] = amount
        return BatchInputs(frozenset(taken), found)


def build_statement(dialect: Dialect) -> DriverStatement:
    """Rows of (order id, NULL, NULL) for the orders taken in, then (account, coin, amount)."""
    quote = dialect.identifier_preparer.quote
    order_id, account, coin, amount = (quote(n) for n in ("order_id", "account_id", "coin", "amount"))
    sql = (
        f"SELECT {order_id}, NULL::text, NULL::numeric FROM {quote(orders.name)} "
        f"WHERE {order_id} = ANY($1::text[]) AND ({TAKEN_IN}) "
        f"UNION ALL "
        f"SELECT {account}, {coin}, {amount} FROM {quote(balances.name)} WHERE {account} = ANY($2::text[])"
    )
    return DriverStatement(sql, ("order_ids", "account_ids"))
