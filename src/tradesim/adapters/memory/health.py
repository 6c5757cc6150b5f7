"""Readiness of the in-memory database (its `available` switch simulates an outage)."""

from __future__ import annotations

from tradesim.adapters.memory.tables import MemoryDatabase
from tradesim.ports.errors import DependencyUnavailable


class MemoryDatabaseHealth:
    name = "database"

    def __init__(self, database: MemoryDatabase) -> None:
        self._database = database

    async def check(self) -> None:
        if not self._database.available:
            raise DependencyUnavailable("the in-memory database is marked unavailable")
