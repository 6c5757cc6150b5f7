"""`KeptConnection`: one PostgreSQL connection kept checked out for a caller that works serially.

A worker records one batch's outcome after another, and the api's order recorder writes one
batch of new orders after another. Each of their units of work checking a connection out of
SQLAlchemy's pool and returning it costs about as much CPU as the statement it runs (the pool's
events and reset, a greenlet switch each way), so these callers keep one connection between
units of work (`SqlAlchemyUnitOfWork(..., kept=...)`).

Only one unit of work uses the kept connection at a time; another that starts meanwhile checks
one out of the pool as usual, so sharing the holder is safe, only slower. The connection is
checked as the pool's checkout would check it: one the driver has seen closed (the server
restarted) is replaced, and so is one older than the pool's recycle age. A unit of work that
found it broken drops it (`release(..., keep=False)`) and the next takes a fresh one.
`Database.dispose()` closes it.
"""

from __future__ import annotations

import contextlib
import time
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncConnection

if TYPE_CHECKING:
    from tradesim.adapters.sqlalchemy.database import Database


class KeptConnection:
    def __init__(self, database: Database) -> None:
        self._database = database
        self._connection: AsyncConnection | None = None
        self._since = 0.0
        self._busy = False

    async def acquire(self) -> AsyncConnection | None:
        """The kept connection, opened if need be; None while another unit of work uses it.

        Raises what connecting raises (the caller reports it as an outage)."""
        if self._busy:
            return None
        self._busy = True
        try:
            connection = self._connection
            if connection is not None and (dead := self._dead(connection)) is not None:
                self._connection = None
                await _discard(connection, invalidate=dead)
                connection = None
            if connection is None:
                connection = await self._database.autocommit_engine.connect()
                self._connection, self._since = connection, time.monotonic()
        except BaseException:
            self._busy = False
            raise
        return connection

    def release(self, connection: AsyncConnection, *, keep: bool) -> bool:
        """Back from a unit of work: True when this holder keeps it; else the caller closes it
        (it came from the pool, or `keep=False`: it failed, and is forgotten here)."""
        if connection is not self._connection:
            return False
        self._busy = False
        if not keep:
            self._connection = None
        return keep

    async def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            await _discard(connection, invalidate=False)

    def _dead(self, connection: AsyncConnection) -> bool | None:
        """None: usable; True: gone (invalidate it); False: old, back to the pool to be recycled."""
        if connection.closed or connection.invalidated or driver_connection(connection).is_closed():
            return True
        if time.monotonic() - self._since > self._database.config.pool_recycle:
            return False
        return None


def driver_connection(connection: AsyncConnection) -> Any:
    """The asyncpg connection under `connection`, checked out: read off it without I/O, where
    `get_raw_connection()` costs a greenlet switch."""
    sync = connection.sync_connection
    assert sync is not None, "read only from a started connection"
    return sync.connection.driver_connection


async def invalidate_quietly(connection: AsyncConnection) -> None:
    with contextlib.suppress(Exception):  # already discarding a broken connection
        await connection.invalidate()


async def close_quietly(connection: AsyncConnection) -> None:
    with contextlib.suppress(Exception):  # already discarding a broken connection
        await connection.close()


async def _discard(connection: AsyncConnection, *, invalidate: bool) -> None:
    if invalidate:
        await invalidate_quietly(connection)
    await close_quietly(connection)
