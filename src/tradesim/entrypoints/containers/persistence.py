"""The database: units of work. In-memory until the SQL adapters land (issue 3)."""

from __future__ import annotations

from dependency_injector import containers, providers

from tradesim.adapters.memory.health import MemoryDatabaseHealth
from tradesim.adapters.memory.tables import MemoryDatabase
from tradesim.adapters.memory.unit_of_work import MemoryUnitOfWork


class Persistence(containers.DeclarativeContainer):
    core = providers.DependenciesContainer()
    memory_database = providers.Singleton(MemoryDatabase)
    #: A fresh unit of work per call; inject `unit_of_work.provider` where a factory is wanted.
    unit_of_work = providers.Factory(MemoryUnitOfWork, database=memory_database)
    health = providers.Singleton(MemoryDatabaseHealth, database=memory_database)
