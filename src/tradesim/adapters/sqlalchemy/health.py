"""Readiness of the SQL database: one `SELECT 1` on a pooled connection, bounded in time."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from tradesim.adapters.sqlalchemy.database import Database
from tradesim.adapters.sqlalchemy.errors import translate
from tradesim.ports.errors import DependencyUnavailable

_PROBE = text("SELECT 1")


class DatabaseHealth:
    name = "database"

    def __init__(self, database: Database, timeout_s: float = 2.0) -> None:
        self._database = database
        self._timeout = timeout_s

    async def check(self) -> None:
        try:
            async with asyncio.timeout(self._timeout):
                async with self._database.engine.connect() as connection:
                    await connection.execute(_PROBE)
        except TimeoutError:
            raise DependencyUnavailable(f"the database did not answer within {self._timeout:g} s") from None
        except Exception as error:
            translated = translate(error)
            if translated is error:
                raise
            raise translated from error
