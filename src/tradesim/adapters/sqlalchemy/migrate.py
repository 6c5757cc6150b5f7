"""Applying the schema migrations, from the installed package (no alembic.ini, no source tree).

- `upgrade_to_head(url)`: blocking; for the CLI (`tradesim db upgrade`) and for `tradesim serve`
  on start (before or inside its event loop), to bring the SQLite file (or a PostgreSQL database) to the
  current schema. Safe to run at every start: an up-to-date database is left as it is.
- `await upgrade_to_head_async(url)`: the same from inside a running event loop.
- `current_revision_async(url)`: the revision a database is at (None when never migrated).

On PostgreSQL the upgrade holds an advisory lock (`MIGRATION_LOCK`) from before it reads the
schema's revision until it is done, so two upgrades at once (two deliveries, two operators) run
one after the other: the second finds the schema migrated and leaves it as it is. It also makes
sure the `market_candles` partitions of the current and the next month exist, so running it
(say, daily from a scheduler) keeps partitions ahead of time even when no candle has been
written for a while.

Raises `DependencyUnavailable` when the database cannot be reached or times out.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from tradesim.adapters.sqlalchemy.database import Database, DatabaseConfig
from tradesim.adapters.sqlalchemy.errors import translate
from tradesim.adapters.sqlalchemy.market import ENSURE_PARTITIONS, next_month
from tradesim.ports.errors import DependencyUnavailable

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
#: A migration may rewrite a big table: no statement timeout, but it gives up waiting for a lock
#: (held by the running service) after a minute rather than queueing everyone behind it forever.
MIGRATION_CONFIG = DatabaseConfig(statement_timeout=0, network_timeout=None, lock_timeout=60, pool_size=1)
#: The advisory lock key of schema upgrades on PostgreSQL ("tradesim" in ASCII, as a bigint).
MIGRATION_LOCK = int.from_bytes(b"tradesim", "big") >> 1
#: How long an upgrade waits for another one to finish before it gives up.
MIGRATION_LOCK_WAIT = "15min"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def upgrade_to_head(url: str, revision: str = "head") -> str | None:
    """Migrate the database at `url` to `revision`; returns the revision it is at afterwards.

    Blocks. Called with an event loop running in this thread, it runs on a thread of its own
    (and blocks the loop meanwhile, which suits a start-up step).
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(upgrade_to_head_async(url, revision))
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(upgrade_to_head_async(url, revision))).result()


async def upgrade_to_head_async(url: str, revision: str = "head") -> str | None:
    return await _run(url, lambda connection: _upgrade(connection, revision))


async def downgrade_async(url: str, revision: str) -> str | None:
    """Migrate down to `revision` ("base" empties the schema). For tests and operators."""
    return await _run(url, lambda connection: _downgrade(connection, revision))


async def current_revision_async(url: str) -> str | None:
    return await _run(url, _current)


async def _run(url: str, work: Callable[[Connection], str | None]) -> str | None:
    database = Database(url, MIGRATION_CONFIG)
    try:
        async with database.engine.connect() as connection:
            return await connection.run_sync(work)
    except DependencyUnavailable:
        raise
    except Exception as error:
        translated = translate(error)
        if translated is error:
            raise
        raise translated from error
    finally:
        await database.dispose()


def _upgrade(connection: Connection, revision: str) -> str | None:
    postgres = connection.dialect.name == "postgresql"
    if postgres:
        _lock_migrations(connection)
    try:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        if postgres and _has_candles(connection):
            now = int(time.time() * 1000)
            with connection.begin():
                connection.execute(
                    text(f"SELECT {ENSURE_PARTITIONS}(:from_ms, :to_ms)"), {"from_ms": now, "to_ms": next_month(now)}
                )
        return _current(connection)
    finally:
        if postgres:
            _unlock_migrations(connection)


def _lock_migrations(connection: Connection) -> None:
    """Wait for any other upgrade to finish, then hold the lock for this connection's session."""
    with connection.begin():
        # The connection's lock_timeout (a minute) is for the service's locks; another upgrade may take longer.
        connection.execute(text(f"SET LOCAL lock_timeout = '{MIGRATION_LOCK_WAIT}'"))
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})


def _unlock_migrations(connection: Connection) -> None:
    # A connection that failed cannot unlock; its session's end (the pool is disposed) releases the lock.
    with contextlib.suppress(SQLAlchemyError):
        if connection.in_transaction():
            connection.rollback()
        with connection.begin():
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})


def _downgrade(connection: Connection, revision: str) -> str | None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.downgrade(config, revision)
    return _current(connection)


def _current(connection: Connection) -> str | None:
    revision = MigrationContext.configure(connection).get_current_revision()
    if connection.in_transaction():
        connection.rollback()
    return revision


def _has_candles(connection: Connection) -> bool:
    found = connection.execute(text("SELECT to_regprocedure(:f)"), {"f": f"{ENSURE_PARTITIONS}(bigint,bigint)"})
    exists = found.scalar() is not None
    connection.rollback()
    return exists
