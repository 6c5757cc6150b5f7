"""Alembic environment for the tradesim schema.

`tradesim.adapters.sqlalchemy.migrate` hands over an open connection (`config.attributes
["connection"]`); the alembic command line (development only, see `alembic.ini`) builds its own
engine from `-x url=...`. Either way the engine is the adapter's own `Database`, so SQLite runs
the migrations inside BEGIN IMMEDIATE like any other transaction.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from tradesim.adapters.sqlalchemy.database import Database
from tradesim.adapters.sqlalchemy.migrate import MIGRATION_CONFIG
from tradesim.adapters.sqlalchemy.tables import include_name, metadata

config = context.config


def run_on(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite alters a table by copying it; batch mode writes migrations that way.
        render_as_batch=connection.dialect.name == "sqlite",
        include_name=include_name,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_on_new_engine(url: str) -> None:
    database = Database(url, MIGRATION_CONFIG)
    try:
        async with database.engine.connect() as connection:
            await connection.run_sync(run_on)
    finally:
        await database.dispose()


def configured_url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("pass the database URL: alembic -x url=... (or run `tradesim db upgrade`)")
    return url


if context.is_offline_mode():
    context.configure(url=configured_url(), target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
elif (handed_over := config.attributes.get("connection")) is not None:
    run_on(handed_over)
else:
    asyncio.run(run_on_new_engine(configured_url()))
