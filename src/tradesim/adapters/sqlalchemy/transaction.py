"""What the repositories of one unit of work share: its connection, inside one transaction."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Executable

from tradesim.adapters.sqlalchemy.database import Database
from tradesim.adapters.sqlalchemy.errors import connection_lost, translate


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

    async def upsert(self, table: Table, row: dict[str, Any]) -> None:
        """Insert `row`, or replace every other column of the row with the same primary key."""
        statement = self.insert(table).values(row)
        keys = [column.name for column in table.primary_key.columns]
        await self.execute(
            statement.on_conflict_do_update(
                index_elements=keys, set_={name: statement.excluded[name] for name in row if name not in keys}
            )
        )

    async def execute(self, statement: Executable, parameters: Any = None) -> CursorResult[Any]:
        try:
            return await self.connection.execute(statement, parameters)
        except Exception as error:
            translated = translate(error)
            if translated is error:
                raise
            self.broken = self.broken or connection_lost(error)
            raise translated from error
