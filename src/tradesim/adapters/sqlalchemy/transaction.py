"""What the repositories of one unit of work share: its connection, inside one transaction.

Statements are built once and reused with bound parameters (`prepared`, `upsert`,
`insert_new`): building a statement and computing its cache key costs SQLAlchemy more than
running it, and the fill path runs a handful of them per transaction. Lists of rows go in one
statement (`upsert`, `insert_new_many`) and lists of keys in one read (`one_of`,
`execute_in`), so a batch costs a statement per table rather than one per row.

On PostgreSQL the unit of work runs the transaction itself on the asyncpg connection (BEGIN
before the first statement, COMMIT or ROLLBACK at the end; SQLAlchemy's connection is left in
autocommit so that it never begins one of its own), and these hot helpers send their
statements, compiled once, straight to the driver (`driver_sql.py`). Every other statement
goes through SQLAlchemy on the same connection, inside the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Hashable, Mapping, Sequence
from typing import Any

from sqlalchemy import Column, ColumnElement, RowMapping, Table, any_, bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Executable

from tradesim.adapters.sqlalchemy.database import Database
from tradesim.adapters.sqlalchemy.driver_sql import (
    DriverStatement,
    compile_for_driver,
    insert_new_from_rows,
    rows_argument,
    upsert_from_rows,
)
from tradesim.adapters.sqlalchemy.errors import connection_lost, translate
from tradesim.domain.errors import Conflict

#: Statements built per dialect, kept for the life of the process.
_PREPARED: dict[tuple[str, Hashable], Any] = {}
#: Driver statements for PostgreSQL, built on first use only.
_DRIVER: dict[Hashable, DriverStatement] = {}
_DRIVER_SELECTS: dict[int, tuple[Executable, DriverStatement]] = {}
#: Keys per read on SQLite, under the bound-variable limit of older builds (999).
SQLITE_KEYS_PER_READ = 900


class Transaction:
    """Runs statements on the unit of work's connection; an outage or timeout becomes
    `DependencyUnavailable`. Repositories never commit: only the unit of work does."""

    def __init__(
        self, database: Database, connection: AsyncConnection, driver: Any = None, *, transactional: bool = True
    ) -> None:
        """`driver`: the asyncpg connection under `connection` on PostgreSQL (None on SQLite),
        on which this object runs the transaction itself when `transactional`."""
        self.database = database
        self.connection = connection
        self.driver = driver
        self.transactional = transactional
        #: True between the BEGIN this object sent and the unit of work's COMMIT or ROLLBACK.
        self.begun = False
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

        A list is sent as one statement: on PostgreSQL one array of rows (`upsert_rows`),
        on SQLite multi-row INSERTs by SQLAlchemy; the rows must have distinct keys (a statement
        may not touch a row twice).
        """

        def build(tx: Transaction) -> Any:
            statement = tx.insert(table)
            keys = [c.name for c in table.primary_key.columns]
            others = {c.name: statement.excluded[c.name] for c in table.columns if c.name not in keys}
            return statement.on_conflict_do_update(index_elements=keys, set_=others)

        if self.driver is None:
            await self.execute(self.prepared(("upsert", table.name), build), rows)
            return
        if isinstance(rows, dict):
            statement = self._driver(("upsert", table.name), build)
            await self.run(self.driver.execute, statement.sql, *statement.arguments(rows))
        elif rows:
            await self.upsert_rows(table, rows)

    async def upsert_rows(
        self, table: Table, rows: list[dict[str, Any]], set_: dict[str, str] | None = None
    ) -> list[Any]:
        """PostgreSQL only: `upsert` of `rows` as one statement (`driver_sql.upsert_from_rows`,
        which says what `set_` means); with `set_`, the primary key and the `set_` columns of
        each row as stored afterwards (else nothing)."""
        key = ("upsert_rows", table.name, tuple(sorted((set_ or {}).items())))
        return await self.fetch_rows(key, lambda: upsert_from_rows(table, self.connection.dialect, set_), rows)

    async def insert_new(self, table: Table, row: dict[str, Any], returning: Column[Any]) -> bool:
        """Insert `row` unless it breaks a unique constraint or index; True when it was inserted.

        ON CONFLICT DO NOTHING rather than catching the violation: on PostgreSQL a failed
        statement poisons the whole transaction. A concurrent insert of the same key waits for
        the other transaction, then finds the conflict (or, if that one rolled back, inserts).
        """
        if self.driver is not None:
            statement = self._driver(
                ("insert_new", table.name, returning.name), lambda tx: self._insert_new(table, returning)
            )
            return await self.run(self.driver.fetchval, statement.sql, *statement.arguments(row)) is not None
        inserted = await self.execute(self._insert_new(table, returning), row)
        return inserted.first() is not None

    async def insert_new_many(self, table: Table, rows: list[dict[str, Any]], returning: Column[Any]) -> set[Any]:
        """`insert_new` for many rows in one statement; the `returning` values of those inserted.

        A row whose key is stored already, or repeats an earlier row of `rows`, is skipped. On
        PostgreSQL the rows go as one array of rows in a single INSERT (`driver_sql.py`); on
        SQLite SQLAlchemy sends multi-row INSERTs, each under its limit of bound variables.
        """
        if not rows:
            return set()
        if self.driver is not None:
            found = await self.fetch_rows(
                ("insert_new_many", table.name, returning.name),
                lambda: insert_new_from_rows(table, returning, self.connection.dialect),
                rows,
            )
            return {record[0] for record in found}
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
        if self.driver is not None:
            driver = self._driver_select(statement)
            records: list[Any] = await self.run(self.driver.fetch, driver.sql, *driver.arguments({"keys": wanted}))
            return records
        size = SQLITE_KEYS_PER_READ
        found: list[RowMapping] = []
        for start in range(0, len(wanted), size):
            found.extend((await self.execute(statement, {"keys": wanted[start : start + size]})).mappings())
        return found

    async def fetch_rows(
        self, key: Hashable, make: Callable[[], DriverStatement], *rows: Sequence[dict[str, Any]]
    ) -> list[Any]:
        """PostgreSQL only: runs the statement `make` builds (once per `key`), each of `rows` an
        array of rows (`driver_sql.rows_argument`), one per parameter."""
        statement = _driver_statement(key, make)
        records: list[Any] = await self.run(self.driver.fetch, statement.sql, *(rows_argument(r) for r in rows))
        return records

    async def fetch(
        self, key: Hashable, make: Callable[[], DriverStatement], parameters: Mapping[str, Any]
    ) -> list[Any]:
        """PostgreSQL only: the records of the statement `make` builds (once per `key`)."""
        statement = _driver_statement(key, make)
        records: list[Any] = await self.run(self.driver.fetch, statement.sql, *statement.arguments(parameters))
        return records

    def _driver(self, key: Hashable, build: Callable[[Transaction], Any]) -> DriverStatement:
        return _driver_statement(key, lambda: compile_for_driver(build(self), self.connection.dialect))

    def _driver_select(self, statement: Executable) -> DriverStatement:
        # Keyed by identity, and the statement is kept with its SQL, so an id is never reused.
        entry = _DRIVER_SELECTS.get(id(statement))
        if entry is None or entry[0] is not statement:
            entry = _DRIVER_SELECTS[id(statement)] = (statement, compile_for_driver(statement, self.connection.dialect))
        return entry[1]

    async def begin(self) -> None:
        """BEGIN on the driver connection, once, before the first statement (PostgreSQL)."""
        if self.driver is not None and self.transactional and not self.begun:
            await self._translated(self.driver.execute("BEGIN"))
            self.begun = True

    async def end(self, verb: str) -> None:
        """COMMIT or ROLLBACK what `begin` started (the unit of work's call)."""
        if self.begun:
            self.begun = False
            await self._translated(self.driver.execute(verb))

    async def run(self, call: Callable[..., Any], *arguments: Any) -> Any:
        """`call(*arguments)` on the driver connection, inside this transaction."""
        await self.begin()
        return await self._translated(call(*arguments))

    async def execute(self, statement: Executable, parameters: Any = None) -> CursorResult[Any]:
        await self.begin()
        return await self._translated(self.connection.execute(statement, parameters))  # type: ignore[no-any-return]

    async def _translated(self, awaitable: Any) -> Any:
        try:
            return await awaitable
        except Exception as error:
            translated = translate(error)
            if translated is error:
                raise
            self.broken = self.broken or connection_lost(error)
            raise translated from error


def _driver_statement(key: Hashable, make: Callable[[], DriverStatement]) -> DriverStatement:
    """The driver statement `make` builds for `key`, built on first use only."""
    statement = _DRIVER.get(key)
    if statement is None:
        statement = _DRIVER[key] = make()
    return statement
