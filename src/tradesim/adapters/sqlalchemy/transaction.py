"""What the repositories of one unit of work share: its connection, inside one transaction.

Statements are built once and reused with bound parameters (`prepared`, `upsert`,
`insert_new`): building a statement and computing its cache key costs SQLAlchemy more than
running it, and the fill path runs a handful of them per transaction. Lists of rows go in one
executemany (`upsert`, `insert_new_many`) and lists of keys in one read (`one_of`,
`execute_in`), so a batch costs a statement per table rather than one per row.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Hashable
from typing import Any

from sqlalchemy import Column, ColumnElement, RowMapping, Table, any_, bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Executable

from tradesim.adapters.sqlalchemy.database import Database
from tradesim.adapters.sqlalchemy.errors import connection_lost, translate
from tradesim.domain.errors import Conflict

#: Statements built per dialect, kept for the life of the process.
_PREPARED: dict[tuple[str, Hashable], Any] = {}
#: Keys per read on SQLite, under the bound-variable limit of older builds (999).
SQLITE_KEYS_PER_READ = 900


class Transaction:
    """Runs statements on the unit of work's connection; an outage or timeout becomes
    `DependencyUnavailable`. Repositories never commit: only the unit of work does."""

    def __init__(self, database: Database, connection: AsyncConnection) -> None:
        self.database = database
        self.connection = connection
        self.dialect = database.dialect
        #: Set when a statement failed because the connection was lost; the unit of work then
        #: discards the connection instead of rolling back on it and returning it to the pool.
        self.broken = False
        self._after_commit: list[Callable[[], None]] = []

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run `callback` once this transaction has committed (never if it rolls back)."""
        self._after_commit.append(callback)

    def committed(self) -> None:
        """Called by the unit of work after a successful commit."""
        callbacks, self._after_commit = self._after_commit, []
        for callback in callbacks:
            callback()

    @property
    def is_postgres(self) -> bool:
        return self.dialect == "postgresql"

    def insert(self, table: Table) -> Any:
        """The dialect's INSERT, which knows ON CONFLICT (both dialects spell it the same way)."""
        construct: Callable[[Table], Any] = postgresql.insert if self.is_postgres else sqlite.insert
        return construct(table)

    def prepared(self, key: Hashable, build: Callable[[Transaction], Any]) -> Any:
        """The statement `build` makes for this dialect, built on first use only."""
        statement = _PREPARED.get((self.dialect, key))
        if statement is None:
            statement = _PREPARED[(self.dialect, key)] = build(self)
        return statement

    async def upsert(self, table: Table, rows: dict[str, Any] | list[dict[str, Any]]) -> None:
        """Insert, or replace every other column of the row with the same primary key.

        A list is sent as one executemany (batched into multi-row INSERTs by SQLAlchemy); the
        rows must have distinct keys (a statement may not touch a row twice).
        """

        def build(tx: Transaction) -> Any:
            statement = tx.insert(table)
            keys = [c.name for c in table.primary_key.columns]
            others = {c.name: statement.excluded[c.name] for c in table.columns if c.name not in keys}
            return statement.on_conflict_do_update(index_elements=keys, set_=others)

        await self.execute(self.prepared(("upsert", table.name), build), rows)

    async def insert_new(self, table: Table, row: dict[str, Any], returning: Column[Any]) -> bool:
        """Insert `row` unless it breaks a unique constraint or index; True when it was inserted.

        ON CONFLICT DO NOTHING rather than catching the violation: on PostgreSQL a failed
        statement poisons the whole transaction. A concurrent insert of the same key waits for
        the other transaction, then finds the conflict (or, if that one rolled back, inserts).
        """
        inserted = await self.execute(self._insert_new(table, returning), row)
        return inserted.first() is not None

    async def insert_new_many(self, table: Table, rows: list[dict[str, Any]], returning: Column[Any]) -> set[Any]:
        """`insert_new` for many rows in one executemany; the `returning` values of those inserted.

        A row whose key is stored already, or repeats an earlier row of `rows`, is skipped.
        SQLAlchemy sends the rows as multi-row INSERTs (its insertmanyvalues), each kept under
        the dialect's limit of bound variables.
        """
        if not rows:
            return set()
        inserted = await self.execute(self._insert_new(table, returning), rows)
        return set(inserted.scalars())

    def _insert_new(self, table: Table, returning: Column[Any]) -> Any:
        def build(tx: Transaction) -> Any:
            return tx.insert(table).on_conflict_do_nothing().returning(returning)

        return self.prepared(("insert_new", table.name, returning.name), build)

    async def insert_once(self, table: Table, row: dict[str, Any], returning: Column[Any], what: str) -> None:
        """Insert `row`; `Conflict` naming `what` when its key exists already (the transaction
        stays usable, unlike after a unique violation on PostgreSQL)."""
        if not await self.insert_new(table, row, returning):
            raise Conflict(f"{what} {row[returning.name]} exists already")

    def one_of(self, column: Column[Any]) -> ColumnElement[bool]:
        """`column` is one of the keys bound as `keys` (see `execute_in`).

        PostgreSQL gets one array parameter (`= ANY($1)`): the statement's text is the same
        whatever the number of keys, so the server's prepared statement is reused. SQLite has no
        arrays: an expanding IN, one variable per key.
        """
        if self.is_postgres:
            return column == any_(bindparam("keys", type_=postgresql.ARRAY(column.type)))
        return column.in_(bindparam("keys", expanding=True))

    async def execute_in(self, statement: Executable, keys: Collection[Any]) -> list[RowMapping]:
        """The rows `statement` (built with `one_of`) selects for `keys`, in as few reads as the
        dialect allows: one on PostgreSQL, one per `SQLITE_KEYS_PER_READ` keys on SQLite."""
        wanted = list(dict.fromkeys(keys))
        if not wanted:
            return []
        size = len(wanted) if self.is_postgres else SQLITE_KEYS_PER_READ
        found: list[RowMapping] = []
        for start in range(0, len(wanted), size):
            found.extend((await self.execute(statement, {"keys": wanted[start : start + size]})).mappings())
        return found

    async def execute(self, statement: Executable, parameters: Any = None) -> CursorResult[Any]:
        try:
            return await self.connection.execute(statement, parameters)
        except Exception as error:
            translated = translate(error)
            if translated is error:
                raise
            self.broken = self.broken or connection_lost(error)
            raise translated from error
