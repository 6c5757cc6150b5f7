"""A database that is down, drops the connection or times out raises `DependencyUnavailable`
(on enter, on a query, on commit), never a driver error, and leaves nothing half-written."""

from __future__ import annotations

import asyncio
import shutil
import threading
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import make_url

from tests.contract import records
from tests.integration.databases import empty_tables, sqlite_url
from tests.integration.tcp_proxy import TcpProxy
from tests.waiting import until
from tradesim.adapters.sqlalchemy.database import Database, DatabaseConfig
from tradesim.adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from tradesim.ports.errors import DependencyUnavailable

pytestmark = pytest.mark.integration

QUICK = DatabaseConfig(connect_timeout=2, statement_timeout=5, lock_timeout=0.3, network_timeout=1.0)


def _connections_of(database: Database) -> list[Any]:
    """The driver connections the database's pool hands out from now on (recorded at checkout)."""
    seen: list[Any] = []
    event.listen(database.engine.sync_engine, "checkout", lambda dbapi, _record, _proxy: seen.append(dbapi))
    return seen


def _all_closed(connections: list[Any]) -> bool:
    return bool(connections) and all(c.driver_connection.is_closed() for c in connections)


@pytest.fixture
async def proxy(migrated_postgres_url: str) -> AsyncIterator[TcpProxy]:
    url = make_url(migrated_postgres_url)
    proxy = await TcpProxy(url.host or "127.0.0.1", url.port or 5432).start()
    try:
        yield proxy
    finally:
        await proxy.stop()


@pytest.fixture
async def proxied(proxy: TcpProxy, migrated_postgres_url: str) -> AsyncIterator[Database]:
    """The session database, reached through the proxy."""
    database = Database(make_url(migrated_postgres_url).set(host="127.0.0.1", port=proxy.port), QUICK)
    await empty_tables(database)
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture
async def direct(migrated_postgres_url: str) -> AsyncIterator[Database]:
    database = Database(migrated_postgres_url, QUICK)
    try:
        yield database
    finally:
        await database.dispose()


async def write_a_fill(uow: SqlAlchemyUnitOfWork) -> None:
    await uow.orders.add_new_many([records.order()])
    await uow.executions.add(records.execution(1))
    await uow.ledger.add(records.entry(1, "-0.0165"))
    await uow.balances.apply("acc-1", "USDT", Decimal("-0.0165"))


async def nothing_was_written(database: Database) -> None:
    async with SqlAlchemyUnitOfWork(database) as uow:
        assert await uow.orders.get("ord-1") is None
        assert await uow.executions.list_by_account("acc-1") == []
        assert await uow.ledger.list_by_account("acc-1") == []
        assert await uow.balances.get("acc-1") == {}


async def test_a_server_that_refuses_connections_fails_on_enter() -> None:
    database = Database("postgresql+asyncpg://tradesim:secret@127.0.0.1:1/tradesim", QUICK)
    try:
        with pytest.raises(DependencyUnavailable) as raised:
            async with SqlAlchemyUnitOfWork(database):
                pass
        assert "secret" not in str(raised.value)
    finally:
        await database.dispose()


async def test_connections_cut_mid_transaction_fail_the_commit_and_write_nothing(
    proxy: TcpProxy, proxied: Database, direct: Database
) -> None:
    with pytest.raises(DependencyUnavailable):
        async with SqlAlchemyUnitOfWork(proxied) as uow:
            await write_a_fill(uow)
            proxy.cut()
            await uow.commit()
    await nothing_was_written(direct)
    # The pool recovers by itself once the network does.
    async with SqlAlchemyUnitOfWork(proxied) as uow:
        await write_a_fill(uow)
        await uow.commit()
    async with SqlAlchemyUnitOfWork(direct) as uow:
        assert await uow.balances.get("acc-1") == {"USDT": Decimal("-0.0165")}


async def test_connections_cut_before_a_query_fail_the_query(proxy: TcpProxy, proxied: Database) -> None:
    with pytest.raises(DependencyUnavailable):
        async with SqlAlchemyUnitOfWork(proxied) as uow:
            await write_a_fill(uow)
            proxy.cut()
            await uow.orders.get("ord-1")


async def test_pooled_connections_the_server_closed_are_replaced_without_an_error(
    proxy: TcpProxy, proxied: Database
) -> None:
    # As after a restart of the server: every idle connection in the pool was closed under it.
    opened = _connections_of(proxied)
    async with SqlAlchemyUnitOfWork(proxied) as uow:
        await write_a_fill(uow)
        await uow.commit()
    proxy.cut()
    await until(lambda: _all_closed(opened))  # the driver sees the close once its loop reads the socket
    async with SqlAlchemyUnitOfWork(proxied) as uow:
        assert await uow.balances.get("acc-1") == {"USDT": Decimal("-0.0165")}


async def test_a_server_that_stops_answering_times_out(proxy: TcpProxy, proxied: Database, direct: Database) -> None:
    async with SqlAlchemyUnitOfWork(proxied) as uow:
        await write_a_fill(uow)
        proxy.freeze()
        with pytest.raises(DependencyUnavailable):
            await asyncio.wait_for(uow.ledger.total("acc-1", "USDT"), timeout=10)
    proxy.thaw()
    await nothing_was_written(direct)


async def test_a_lock_held_too_long_times_out_the_waiting_statement(direct: Database) -> None:
    await empty_tables(direct)
    async with SqlAlchemyUnitOfWork(direct) as holder:
        await holder.balances.apply("acc-1", "USDT", Decimal("10"))
        with pytest.raises(DependencyUnavailable, match="lock timeout"):
            async with SqlAlchemyUnitOfWork(direct) as waiter:
                await waiter.ledger.add(records.entry(2, "5"))
                await waiter.balances.apply("acc-1", "USDT", Decimal("5"))  # waits for the holder's row lock
        await holder.commit()
    async with SqlAlchemyUnitOfWork(direct) as uow:
        assert await uow.balances.get("acc-1") == {"USDT": Decimal("10")}
        assert await uow.ledger.list_by_account("acc-1") == []


async def test_a_statement_past_the_statement_timeout_is_cancelled(migrated_postgres_url: str) -> None:
    slow = Database(migrated_postgres_url, DatabaseConfig(statement_timeout=0.2, lock_timeout=5))
    try:
        await empty_tables(slow)
        async with SqlAlchemyUnitOfWork(slow) as holder:
            await holder.balances.apply("acc-1", "USDT", Decimal("10"))
            with pytest.raises(DependencyUnavailable, match="statement timeout"):
                async with SqlAlchemyUnitOfWork(slow) as waiter:
                    await waiter.balances.apply("acc-1", "USDT", Decimal("5"))
    finally:
        await slow.dispose()


async def test_sqlite_busy_past_the_busy_timeout_fails_and_writes_nothing(
    sqlite_template: Path, tmp_path: Path
) -> None:
    path = tmp_path / "busy.sqlite3"
    shutil.copyfile(sqlite_template, path)
    database = Database(sqlite_url(path), DatabaseConfig(sqlite_busy_timeout=0.2))
    try:
        async with SqlAlchemyUnitOfWork(database) as holder:
            await holder.balances.apply("acc-1", "USDT", Decimal("10"))
            with pytest.raises(DependencyUnavailable, match="locked"):
                async with SqlAlchemyUnitOfWork(database) as waiter:
                    await write_a_fill(waiter)
            await holder.commit()
        async with SqlAlchemyUnitOfWork(database) as uow:
            assert await uow.balances.get("acc-1") == {"USDT": Decimal("10")}
            assert await uow.orders.get("ord-1") is None
    finally:
        await database.dispose()


async def test_a_sqlite_file_that_cannot_be_opened_fails_on_enter(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the data directory should be")
    database = Database(sqlite_url(blocker / "tradesim.sqlite3"))
    before = set(threading.enumerate())
    try:
        with pytest.raises(DependencyUnavailable):
            async with SqlAlchemyUnitOfWork(database) as uow:
                await uow.accounts.get("acc-1")
    finally:
        await database.dispose()
        # aiosqlite stops the worker thread of a failed connect without waiting for it; let it
        # finish while this test's event loop still runs to take its last message.
        for thread in set(threading.enumerate()) - before:
            await asyncio.to_thread(thread.join, 5)


async def _backend(uow: SqlAlchemyUnitOfWork) -> int:
    """The server process behind the unit of work's connection: which connection it runs on."""
    pid: int = await uow._tx.run(uow._tx.driver.fetchval, "SELECT pg_backend_pid()")  # type: ignore[union-attr]
    return pid


async def test_a_kept_connection_serves_one_unit_of_work_after_another(proxied: Database, direct: Database) -> None:
    kept = proxied.keep()
    async with SqlAlchemyUnitOfWork(proxied, single_statement=True, kept=kept) as first:
        backend = await _backend(first)
        # Another unit of work meanwhile gets a connection of its own: the kept one is in use.
        async with SqlAlchemyUnitOfWork(proxied, kept=kept) as other:
            assert await _backend(other) != backend
            await write_a_fill(other)
            await other.commit()
    async with SqlAlchemyUnitOfWork(proxied, kept=kept) as second:
        assert await _backend(second) == backend
        await second.ledger.add(records.entry(2, "-1"))
        # A transaction left without commit is rolled back before the connection is kept.
    async with SqlAlchemyUnitOfWork(proxied, single_statement=True, kept=kept) as third:
        assert await _backend(third) == backend
        assert await third.ledger.total("acc-1", "USDT") == Decimal("-0.0165")
    await proxied.dispose()
    async with SqlAlchemyUnitOfWork(direct) as uow:
        # Disposing of the database closed it.
        alive = await uow._tx.run(  # type: ignore[union-attr]
            uow._tx.driver.fetchval, "SELECT count(*) FROM pg_stat_activity WHERE pid = $1", backend
        )
        assert alive == 0


async def test_a_kept_connection_the_server_closed_or_that_failed_is_replaced(
    proxy: TcpProxy, proxied: Database
) -> None:
    kept = proxied.keep()
    opened = _connections_of(proxied)
    async with SqlAlchemyUnitOfWork(proxied, kept=kept) as uow:
        await write_a_fill(uow)
        await uow.commit()
    proxy.cut()  # as a restart of the server does, while the connection is kept, idle
    await until(lambda: _all_closed(opened))
    async with SqlAlchemyUnitOfWork(proxied, kept=kept) as uow:
        assert await uow.balances.get("acc-1") == {"USDT": Decimal("-0.0165")}
    with pytest.raises(DependencyUnavailable):
        async with SqlAlchemyUnitOfWork(proxied, single_statement=True, kept=kept) as uow:
            proxy.cut()  # lost under a statement: the unit of work fails, the connection is dropped
            await uow.balances.get("acc-1")
    async with SqlAlchemyUnitOfWork(proxied, single_statement=True, kept=kept) as uow:
        assert await uow.balances.get("acc-1") == {"USDT": Decimal("-0.0165")}
