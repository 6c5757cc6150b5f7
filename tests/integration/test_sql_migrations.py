"""The Alembic migrations: every step reverses cleanly, the result matches the adapters' tables,
and `tradesim db upgrade` builds a partitioned `market_candles` on PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from tests import services
from tests.integration.databases import sqlite_url
from tests.waiting import until
from tradesim.adapters.sqlalchemy.database import Database
from tradesim.adapters.sqlalchemy.market import month_start, next_month
from tradesim.adapters.sqlalchemy.migrate import (
    MIGRATION_LOCK,
    alembic_config,
    current_revision_async,
    downgrade_async,
    head_revision,
    upgrade_to_head_async,
)
from tradesim.adapters.sqlalchemy.tables import include_name, metadata
from tradesim.adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from tradesim.domain.market import Candle

pytestmark = pytest.mark.integration

REVISIONS = [s.revision for s in reversed(list(ScriptDirectory.from_config(alembic_config()).walk_revisions()))]


@pytest.fixture
def fresh_postgres_url(postgres_server: str) -> Iterator[str]:
    """An empty database of this test alone (the stairway downgrades to nothing)."""
    with services.fresh_postgres_database(postgres_server) as url:
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return sqlite_url(tmp_path / "stairway.sqlite3")
    url: str = request.getfixturevalue("fresh_postgres_url")
    return url


async def test_every_revision_upgrades_downgrades_and_upgrades_again(empty_database_url: str) -> None:
    """The stairway: a downgrade that leaves anything behind breaks the upgrade after it."""
    assert REVISIONS[-1] == head_revision()
    previous = "base"
    for revision in REVISIONS:
        assert await upgrade_to_head_async(empty_database_url, revision) == revision
        assert await downgrade_async(empty_database_url, previous) == (None if previous == "base" else previous)
        assert await upgrade_to_head_async(empty_database_url, revision) == revision
        previous = revision
    assert await downgrade_async(empty_database_url, "base") is None
    assert await _table_names(empty_database_url) <= {"alembic_version"}


async def test_the_migrated_schema_matches_the_adapters_tables(empty_database_url: str) -> None:
    await upgrade_to_head_async(empty_database_url)

    def differences(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"include_name": include_name, "compare_type": True})
        return list(compare_metadata(context, metadata))

    database = Database(empty_database_url)
    try:
        async with database.engine.connect() as connection:
            assert await connection.run_sync(differences) == []
    finally:
        await database.dispose()


async def test_upgrading_twice_changes_nothing(empty_database_url: str) -> None:
    assert await upgrade_to_head_async(empty_database_url) == head_revision()
    tables = await _table_names(empty_database_url)
    assert await upgrade_to_head_async(empty_database_url) == head_revision()
    assert await current_revision_async(empty_database_url) == head_revision()
    assert await _table_names(empty_database_url) == tables


def _cli(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """The real command, run away from the source tree: migrations come from the package."""
    return subprocess.run(
        [sys.executable, "-m", "tradesim.entrypoints.cli.main", *args],
        env={**os.environ, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_db_upgrade_makes_market_candles_partitioned_by_month(fresh_postgres_url: str, tmp_path: Path) -> None:
    env = {"TRADESIM_DATABASE_URL": fresh_postgres_url, "TRADESIM_DATA_DIR": str(tmp_path)}
    result = _cli("db", "upgrade", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"is at revision {head_revision()}" in result.stdout

    now = int(datetime.now(UTC).timestamp() * 1000) // 60_000 * 60_000
    this_month, following = month_start(now), next_month(now)
    assert await _partitions(fresh_postgres_url) == {_partition_name(this_month), _partition_name(following)}
    connection = await asyncpg.connect(fresh_postgres_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        strategy = await connection.fetchval(
            "SELECT partstrat::text FROM pg_partitioned_table WHERE partrelid = 'market_candles'::regclass"
        )
        assert strategy == "r"  # RANGE
        assert await connection.fetchval("SELECT pg_get_partkeydef('market_candles'::regclass)") == "RANGE (open_time)"
    finally:
        await connection.close()

    # A month long past and one far ahead have no partition yet: writing to them still works.
    past = int(datetime(2019, 7, 15, 12, 30, tzinfo=UTC).timestamp() * 1000)
    ahead = int(datetime(2031, 3, 31, 23, 59, tzinfo=UTC).timestamp() * 1000)
    database = Database(fresh_postgres_url)
    try:
        async with SqlAlchemyUnitOfWork(database) as uow:
            assert await uow.candles.upsert([_candle(past), _candle(ahead), _candle(now)]) == 3
            await uow.commit()
        async with SqlAlchemyUnitOfWork(database) as uow:
            assert [c.open_time for c in await uow.candles.range("BTCUSDT", past, ahead + 1)] == [past, now, ahead]
    finally:
        await database.dispose()
    assert {_partition_name(past), _partition_name(next_month(past)), "market_candles_y2031m03"} <= await _partitions(
        fresh_postgres_url
    )

    again = _cli("db", "upgrade", env=env, cwd=tmp_path)
    assert again.returncode == 0, again.stderr


async def test_an_upgrade_waits_for_one_already_running(fresh_postgres_url: str) -> None:
    """Two upgrades at once (two deliveries): the second waits on the advisory lock, then finds
    the schema at head. The first is played by a connection holding the lock."""
    holder = await asyncpg.connect(fresh_postgres_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await holder.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
        upgrade = asyncio.create_task(upgrade_to_head_async(fresh_postgres_url))

        async def waiting_on_the_lock() -> bool:
            waiting = await holder.fetchval(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND objid = $1",
                MIGRATION_LOCK & 0xFFFFFFFF,
            )
            return bool(waiting)

        await until(waiting_on_the_lock, within=60)
        assert await _current(fresh_postgres_url) is None, "the waiting upgrade has not touched the schema"
        await holder.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK)
        assert await asyncio.wait_for(upgrade, 120) == head_revision()
        # Done: it let go of the lock.
        assert await holder.fetchval("SELECT pg_try_advisory_lock($1)", MIGRATION_LOCK)
    finally:
        await holder.close()


async def _current(url: str) -> str | None:
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        exists = await connection.fetchval("SELECT to_regclass('alembic_version') IS NOT NULL")
        return await connection.fetchval("SELECT version_num FROM alembic_version") if exists else None
    finally:
        await connection.close()


def test_db_upgrade_migrates_the_default_sqlite_file(tmp_path: Path) -> None:
    env = {"TRADESIM_DATA_DIR": str(tmp_path / "var"), "TRADESIM_DATABASE_URL": ""}
    result = _cli("db", "upgrade", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "var" / "tradesim.sqlite3").is_file()
    assert f"is at revision {head_revision()}" in result.stdout


def test_db_upgrade_reports_an_unreachable_database_without_a_traceback(tmp_path: Path) -> None:
    env = {"TRADESIM_DATABASE_URL": "postgresql+asyncpg://tradesim:secret@127.0.0.1:1/nowhere"}
    result = _cli("db", "upgrade", env={**env, "TRADESIM_DATA_DIR": str(tmp_path)}, cwd=tmp_path)
    assert result.returncode == 1
    assert "cannot" in result.stderr
    assert "Traceback" not in result.stderr
    assert "secret" not in result.stderr + result.stdout


def _candle(open_time: int) -> Candle:
    price = Decimal("100")
    return Candle("BTCUSDT", open_time, price, price, price, price, Decimal(1))


def _partition_name(ms: int) -> str:
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    return f"market_candles_y{moment.year:04d}m{moment.month:02d}"


async def _partitions(url: str) -> set[str]:
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        rows = await connection.fetch(
            "SELECT inhrelid::regclass::text AS name FROM pg_inherits WHERE inhparent = 'market_candles'::regclass"
        )
        return {row["name"] for row in rows}
    finally:
        await connection.close()


async def _table_names(url: str) -> set[str]:
    database = Database(url)
    try:
        async with database.engine.connect() as connection:
            return set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))
    finally:
        await database.dispose()
