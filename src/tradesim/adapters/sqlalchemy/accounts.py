"""Accounts and their money: tables `accounts`, `balances`, `ledger_entries`.

A balance only moves through `balances.apply`, beside a ledger entry; the balance row is a
cached sum of the ledger that concurrent transactions update with an atomic increment.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Column, Index, PrimaryKeyConstraint, Table, Text, bindparam, func, select

from tradesim.adapters.sqlalchemy.mapping import RecordMap
from tradesim.adapters.sqlalchemy.metadata import metadata
from tradesim.adapters.sqlalchemy.transaction import Transaction
from tradesim.adapters.sqlalchemy.types import ExactDecimal
from tradesim.domain.accounts import Account
from tradesim.domain.executions import LedgerEntry
from tradesim.domain.numbers import ZERO

accounts = Table(
    "accounts",
    metadata,
    Column("account_id", Text, primary_key=True),
    Column("user_id", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("created_time", BigInteger, nullable=False),
    Column("currency", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Index(None, "user_id", "created_time"),
)

balances = Table(
    "balances",
    metadata,
    Column("account_id", Text, nullable=False),
    Column("coin", Text, nullable=False),
    Column("amount", ExactDecimal, nullable=False),
    PrimaryKeyConstraint("account_id", "coin"),
)

ledger_entries = Table(
    "ledger_entries",
    metadata,
    Column("entry_id", Text, primary_key=True),
    Column("account_id", Text, nullable=False),
    Column("coin", Text, nullable=False),
    Column("amount", ExactDecimal, nullable=False),
    Column("kind", Text, nullable=False),
    Column("ts", BigInteger, nullable=False),
    Column("balance_after", ExactDecimal, nullable=False),
    Column("ref_id", Text, nullable=False),
    Column("symbol", Text, nullable=False),
    Index(None, "account_id", "ts"),
)

ACCOUNT = RecordMap(Account)
LEDGER_ENTRY = RecordMap(LedgerEntry)

_ACCOUNT_BY_ID = select(accounts).where(accounts.c.account_id == bindparam("account_id"))
_ACCOUNTS_OF_USER = (
    select(accounts)
    .where(accounts.c.user_id == bindparam("user_id"))
    .order_by(accounts.c.created_time, accounts.c.account_id)
)
_ALL_ACCOUNTS = select(accounts).order_by(accounts.c.created_time, accounts.c.account_id)
_BALANCES = select(balances.c.coin, balances.c.amount).where(balances.c.account_id == bindparam("account_id"))
_BALANCE = select(balances.c.amount).where(
    balances.c.account_id == bindparam("account_id"), balances.c.coin == bindparam("coin")
)
_LEDGER_OF_ACCOUNT = (
    select(ledger_entries)
    .where(ledger_entries.c.account_id == bindparam("account_id"))
    .order_by(ledger_entries.c.ts.desc(), ledger_entries.c.entry_id.desc())
    .limit(bindparam("limit"))
)
_OF_ACCOUNT_AND_COIN = (
    ledger_entries.c.account_id == bindparam("account_id"),
    ledger_entries.c.coin == bindparam("coin"),
)
_LEDGER_SUM = select(func.sum(ledger_entries.c.amount)).where(*_OF_ACCOUNT_AND_COIN)
_LEDGER_AMOUNTS = select(ledger_entries.c.amount).where(*_OF_ACCOUNT_AND_COIN)


def _increment(tx: Transaction) -> Any:
    statement = tx.insert(balances)
    return statement.on_conflict_do_update(
        index_elements=["account_id", "coin"], set_={"amount": balances.c.amount + statement.excluded.amount}
    ).returning(balances.c.amount)


def _balances_of_accounts(tx: Transaction) -> Any:
    return select(balances.c.account_id, balances.c.coin, balances.c.amount).where(tx.one_of(balances.c.account_id))


class SqlAccountRepository:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def add(self, account: Account) -> None:
        await self._tx.insert_once(accounts, ACCOUNT.to_row(account), accounts.c.account_id, "account")

    async def get(self, account_id: str) -> Account | None:
        row = (await self._tx.execute(_ACCOUNT_BY_ID, {"account_id": account_id})).mappings().first()
        return None if row is None else ACCOUNT.from_row(row)

    async def list_by_user(self, user_id: str) -> list[Account]:
        return [
            ACCOUNT.from_row(r) for r in (await self._tx.execute(_ACCOUNTS_OF_USER, {"user_id": user_id})).mappings()
        ]

    async def list_all(self) -> list[Account]:
        return [ACCOUNT.from_row(r) for r in (await self._tx.execute(_ALL_ACCOUNTS)).mappings()]


class SqlBalanceRepository:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def get(self, account_id: str) -> dict[str, Decimal]:
        return {row.coin: row.amount for row in await self._tx.execute(_BALANCES, {"account_id": account_id})}

    async def get_many(self, account_ids: Collection[str]) -> dict[str, dict[str, Decimal]]:
        found: dict[str, dict[str, Decimal]] = {account_id: {} for account_id in account_ids}
        statement = self._tx.prepared("balances_of_accounts", _balances_of_accounts)
        for row in await self._tx.execute_in(statement, found):
            found[row["account_id"]][row["coin"]] = row["amount"]
        return found

    async def apply(self, account_id: str, coin: str, delta: Decimal) -> Decimal:
        # One statement that reads and writes the row under its lock: two transactions adding at
        # once queue on the row, and neither update is lost. On SQLite the sum runs in Python:
        # the amount is a decimal string there, and writers are serialised by BEGIN IMMEDIATE,
        # so reading then writing is just as safe.
        row = {"account_id": account_id, "coin": coin, "amount": delta}
        if self._tx.is_postgres:
            amount: Decimal = (await self._tx.execute(self._tx.prepared("increment", _increment), row)).scalar_one()
            return amount
        current = (await self._tx.execute(_BALANCE, row)).scalar_one_or_none()
        amount = (current or ZERO) + delta
        await self._tx.upsert(balances, {**row, "amount": amount})
        return amount

    async def apply_many(self, deltas: Mapping[tuple[str, str], Decimal]) -> dict[tuple[str, str], Decimal]:
        # Rows go in key order, and PostgreSQL takes their locks in the order of the rows:
        # concurrent batches touching the same balances lock them in one order and cannot deadlock.
        keys = sorted(deltas)
        if not keys:
            return {}
        if self._tx.is_postgres:
            rows = [{"account_id": a, "coin": c, "amount": deltas[(a, c)]} for a, c in keys]
            moved = await self._tx.upsert_rows(balances, rows, {"amount": "{table}.amount + excluded.amount"})
            return {(row["account_id"], row["coin"]): row["amount"] for row in moved}
        # SQLite: summed in Python, as in `apply` (the writer holds the file lock meanwhile).
        current = await self.get_many({a for a, _ in keys})
        amounts = {(a, c): current[a].get(c, ZERO) + deltas[(a, c)] for a, c in keys}
        await self._tx.upsert(balances, [{"account_id": a, "coin": c, "amount": v} for (a, c), v in amounts.items()])
        return amounts


class SqlLedgerRepository:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def add(self, entry: LedgerEntry) -> bool:
        # A redelivered fill finds its entries already there and changes nothing.
        return await self._tx.insert_new(ledger_entries, LEDGER_ENTRY.to_row(entry), ledger_entries.c.entry_id)

    async def add_many(self, entries: Sequence[LedgerEntry]) -> set[str]:
        rows = [LEDGER_ENTRY.to_row(e) for e in entries]
        inserted: set[str] = await self._tx.insert_new_many(ledger_entries, rows, ledger_entries.c.entry_id)
        return inserted

    async def list_by_account(self, account_id: str, *, limit: int = 100) -> list[LedgerEntry]:
        rows = await self._tx.execute(_LEDGER_OF_ACCOUNT, {"account_id": account_id, "limit": limit})
        return [LEDGER_ENTRY.from_row(r) for r in rows.mappings()]

    async def total(self, account_id: str, coin: str) -> Decimal:
        where = {"account_id": account_id, "coin": coin}
        if self._tx.is_postgres:
            total = (await self._tx.execute(_LEDGER_SUM, where)).scalar_one()
            return ZERO if total is None else Decimal(total)
        # SQLite would sum the decimal strings as floats: add them up exactly here instead.
        return sum((await self._tx.execute(_LEDGER_AMOUNTS, where)).scalars(), ZERO)
