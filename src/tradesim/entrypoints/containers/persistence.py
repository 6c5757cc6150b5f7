"""The database: units of work over the store `Settings.database_url` names.

- `postgresql+asyncpg://...` or `sqlite+aiosqlite:///...` (the default, under the data dir):
  the SQLAlchemy adapter. The schema must be migrated first (`tradesim db upgrade`, or
  `tradesim.adapters.sqlalchemy.migrate.upgrade_to_head(url)` when `serve` starts).
- `memory://`: the in-memory adapter (tests, throw-away runs).

`unit_of_work` makes a fresh unit of work per call; inject `unit_of_work.provider` where a
factory is wanted. `database` is built on first use; the `engine` resource disposes of its
pool on `shutdown_resources()` (an async dependency-injector Resource cannot feed a
synchronous factory, so the resource owns the shutdown and the singleton serves the calls).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from dependency_injector import containers, providers

from tradesim.adapters.memory.health import MemoryDatabaseHealth
from tradesim.adapters.memory.tables import MemoryDatabase
from tradesim.adapters.memory.unit_of_work import MemoryUnitOfWork
from tradesim.adapters.sqlalchemy.database import Database, is_sql_url
from tradesim.adapters.sqlalchemy.health import DatabaseHealth
from tradesim.adapters.sqlalchemy.kept_connection import KeptConnection
from tradesim.adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from tradesim.entrypoints.containers.core import Started
from tradesim.entrypoints.settings import Settings

MEMORY_URL = "memory://"


def backend_of(settings: Settings) -> str:
    if settings.database_url == MEMORY_URL:
        return "memory"
    if is_sql_url(settings.database_url):
        return "sqlalchemy"
    raise ValueError(f"TRADESIM_DATABASE_URL must be postgresql+asyncpg://..., sqlite+aiosqlite:///... or {MEMORY_URL}")


def outcome_mode(settings: Settings) -> str:
    """How a batch's outcome is written: one statement with no transaction around it where the
    adapter records an outcome as one statement (PostgreSQL), else in a transaction."""
    postgres = backend_of(settings) == "sqlalchemy" and settings.database_url.startswith("postgresql")
    return "single_statement" if postgres else "transactional"


def sql_database(settings: Settings) -> Database | None:
    return Database(settings.database_url) if backend_of(settings) == "sqlalchemy" else None


def kept_connection(database: Database | None) -> KeptConnection | None:
    return database.keep() if database is not None else None


def kept_unit_of_work(database: providers.Provider[Database | None]) -> providers.Factory[SqlAlchemyUnitOfWork]:
    """Single-statement units of work on a connection of their own, kept between them, for one
    caller that works serially (each call makes a provider with its own kept connection)."""
    kept = providers.Singleton(kept_connection, database)
    return providers.Factory(SqlAlchemyUnitOfWork, database=database, single_statement=True, kept=kept)


async def engine_lifetime(database: Database | None) -> AsyncIterator[Database | None]:
    """Yields the database; on shutdown closes its connection pool."""
    try:
        yield database
    finally:
        if database is not None:
            await database.dispose()


class Persistence(containers.DeclarativeContainer):
    core = providers.DependenciesContainer()
    backend = providers.Callable(backend_of, core.settings)
    memory_database = providers.Singleton(MemoryDatabase)
    database = providers.Singleton(sql_database, core.settings)
    engine = Started(engine_lifetime, database)
    #: A fresh unit of work per call; inject `unit_of_work.provider` where a factory is wanted.
    unit_of_work = providers.Selector(
        backend,
        memory=providers.Factory(MemoryUnitOfWork, database=memory_database),
        sqlalchemy=providers.Factory(SqlAlchemyUnitOfWork, database=database),
    )
    #: For work that is one write (recording a new order): see `ports.unit_of_work`.
    single_statement_unit_of_work = providers.Selector(
        backend,
        memory=providers.Factory(MemoryUnitOfWork, database=memory_database),
        sqlalchemy=providers.Factory(SqlAlchemyUnitOfWork, database=database, single_statement=True),
    )
    #: For the order recorder, which writes one batch of new orders after another: single
    #: statements, on a connection it keeps (`adapters/sqlalchemy/kept_connection.py`).
    order_entry_unit_of_work = providers.Selector(
        backend,
        memory=providers.Factory(MemoryUnitOfWork, database=memory_database),
        sqlalchemy=kept_unit_of_work(database),
    )
    #: For the read that resolves a /v5 request's API key (every request, on every api process):
    #: single statements on a connection kept between them, as the order recorder's.
    api_key_unit_of_work = providers.Selector(
        backend,
        memory=providers.Factory(MemoryUnitOfWork, database=memory_database),
        sqlalchemy=kept_unit_of_work(database),
    )
    #: For a batch's outcome (`OutcomeRepository.record`): one statement on PostgreSQL, which
    #: needs no transaction around it, on a connection the worker keeps between batches; a
    #: transaction on the other stores.
    outcome_unit_of_work = providers.Selector(
        providers.Callable(outcome_mode, core.settings),
        single_statement=kept_unit_of_work(database),
        transactional=unit_of_work,
    )
    health = providers.Selector(
        backend,
        memory=providers.Singleton(MemoryDatabaseHealth, database=memory_database),
        sqlalchemy=providers.Singleton(DatabaseHealth, database=database),
    )
