"""Accounts and their money: tables `accounts`, `balances`, `ledger_entries`.

A balance only moves through `balances.apply`, beside a ledger entry; the balance row is a
cached sum of the ledger that concurrent transactions update with an atomic increment.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import BigInteger, Column, Index, PrimaryKeyConstraint, Table, Text, func, select

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


class SqlAccountRepository:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def add(self, account: Account) -> None:
        await self._tx.execute(accounts.insert().values(ACCOUNT.to_row(account)))

    async def get(self, account_id: str) -> Account | None:
        query = select(accounts).where(accounts.c.account_id == account_id)
        row = (await self._tx.execute(query)).mappings().first()
        return None if row is None else ACCOUNT.from_row(row)

    async def list_by_user(self, user_id: str) -> list[Account]:
        query = (
            select(accounts)
            .where(accounts.c.user_id == user_id)
            .order_by(accounts.c.created_time, accounts.c.account_id)
        )
        return [ACCOUNT.from_row(r) for r in (await self._tx.execute(query)).mappings()]

    async def list_all(self) -> list[Account]:
        query = select(accounts).order_by(accounts.c.created_time, accounts.c.account_id)
        return [ACCOUNT.from_row(r) for r in (await self._tx.execute(query)).mappings()]


class SqlBalanceRepository:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def get(self, account_id: str) -> dict[str, Decimal]:
        query = select(balances.c.coin, balances.c.amount).where(balances.c.account_id == account_id)
        return {row.coin: row.amount for row in await self._tx.execute(query)}

    async def apply(self, account_id: str, coin: str, delta: Decimal) -> Decimal:
        # One statement that reads and writes the row under its lock: two transactions adding at
        # once queue on the row (PostgreSQL) or the file (SQLite), and neither update is lost.
        # On SQLite the sum runs in Python: the amount is a decimal string there, and writers
        # are serialised by BEGIN IMMEDIATE, so reading then writing is just as safe.
        if self._tx.is_postgres:
            statement = self._tx.insert(balances).values(account_id=account_id, coin=coin, amount=delta)
            statement = statement.on_conflict_do_update(
                index_elements=["account_id", "coin"], set_={"amount": balances.c.amount + statement.excluded.amount}
            ).returning(balances.c.amount)
            amount: Decimal = (await self._tx.execute(statement)).scalar_one()
            return amount
        current = (await self._amount(account_id, coin)) or ZERO
        amount = current + delta
        await self._tx.upsert(balances, {"account_id": account_id, "coin": coin, "amount": amount})
        return amount

    async def _amount(self, account_id: str, coin: str) -> Decimal | None:
        query = select(balances.c.amount).where(balances.c.account_id == account_id, balances.c.coin == coin)
        amount: Decimal | None = (await self._tx.execute(query)).scalar_one_or_none()
        return amount


class SqlLedgerRepository:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def add(self, entry: LedgerEntry) -> bool:
        # A concurrent insert of the same id waits for the other transaction; if that commits,
        # this one does nothing and reports False (a redelivered fill is a no-op).
        statement = (
            self._tx.insert(ledger_entries)
            .values(LEDGER_ENTRY.to_row(entry))
            .on_conflict_do_nothing(index_elements=["entry_id"])
            .returning(ledger_entries.c.entry_id)
        )
        return (await self._tx.execute(statement)).first() is not None

    async def list_by_account(self, account_id: str, *, limit: int = 100) -> list[LedgerEntry]:
        query = (
            select(ledger_entries)
            .where(ledger_entries.c.account_id == account_id)
            .order_by(ledger_entries.c.ts.desc(), ledger_entries.c.entry_id.desc())
            .limit(limit)
        )
        return [LEDGER_ENTRY.from_row(r) for r in (await self._tx.execute(query)).mappings()]

    async def total(self, account_id: str, coin: str) -> Decimal:
        where = (ledger_entries.c.account_id == account_id, ledger_entries.c.coin == coin)
        if self._tx.is_postgres:
            total = (await self._tx.execute(select(func.sum(ledger_entries.c.amount)).where(*where))).scalar_one()
            return ZERO if total is None else Decimal(total)
        # SQLite would sum the decimal strings as floats: add them up exactly here instead.
        amounts = (await self._tx.execute(select(ledger_entries.c.amount).where(*where))).scalars()
        return sum(amounts, ZERO)
