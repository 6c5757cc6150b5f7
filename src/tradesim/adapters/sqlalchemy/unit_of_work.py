"""`SqlAlchemyUnitOfWork`: one connection and one transaction per ``async with``.

Entering checks a connection out of the pool (so an unreachable database fails here, as
`DependencyUnavailable`); the transaction begins with the first statement; `commit()` ends it
and any statement after it begins another; leaving rolls back whatever was not committed. A
connection that failed because the database went away is invalidated rather than returned to
the pool. Nothing a failed transaction wrote survives: the database rolls it back.

`SqlAlchemyUnitOfWork(database, single_statement=True)` runs each statement in a transaction of
its own (the driver's autocommit): no BEGIN and COMMIT round trips around work that is one write
anyway, such as recording a new order. `commit()` is then a no-op and a write is kept as soon as
its statement returns.

`SqlAlchemyUnitOfWork(database, kept=database.keep())` (PostgreSQL) uses the holder's kept
connection instead of checking one out of the pool, when no other unit of work is using it: for
callers that work serially and often (`kept_connection.py`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncConnection

from tradesim.adapters.sqlalchemy.accounts import SqlAccountRepository, SqlBalanceRepository, SqlLedgerRepository
from tradesim.adapters.sqlalchemy.api_keys import SqlApiKeyRepository
from tradesim.adapters.sqlalchemy.batch_inputs import SqlBatchInputRepository
from tradesim.adapters.sqlalchemy.database import Database
from tradesim.adapters.sqlalchemy.errors import connection_lost, translate
from tradesim.adapters.sqlalchemy.journal import SqlJournalRepository
from tradesim.adapters.sqlalchemy.kept_connection import (
    KeptConnection,
    close_quietly,
    driver_connection,
    invalidate_quietly,
)
from tradesim.adapters.sqlalchemy.market import SqlCandleFileIndex, SqlCandleRepository
from tradesim.adapters.sqlalchemy.orders import SqlExecutionRepository, SqlOrderRepository
from tradesim.adapters.sqlalchemy.outcomes import SqlOutcomeRepository
from tradesim.adapters.sqlalchemy.pending_commands import SqlPendingCommandRepository
from tradesim.adapters.sqlalchemy.positions import SqlPositionRepository
from tradesim.adapters.sqlalchemy.replays import SqlReplayRepository
from tradesim.adapters.sqlalchemy.strategy_deployments import SqlStrategyDeploymentRepository
from tradesim.adapters.sqlalchemy.strategy_runs import SqlStrategyRunRepository
from tradesim.adapters.sqlalchemy.transaction import Transaction
from tradesim.adapters.sqlalchemy.users import SqlRefreshTokenRepository, SqlUserRepository
from tradesim.ports.errors import DependencyUnavailable


class SqlAlchemyUnitOfWork:
    def __init__(
        self, database: Database, *, single_statement: bool = False, kept: KeptConnection | None = None
    ) -> None:
        self._database = database
        self._single_statement = single_statement
        self._kept = kept if database.dialect == "postgresql" else None
        self._connection: AsyncConnection | None = None
        self._tx: Transaction | None = None

    async def __aenter__(self) -> Self:
        if self._connection is not None:
            raise RuntimeError("this unit of work is already in use; make a new one per transaction")
        postgres = self._database.dialect == "postgresql"
        # On PostgreSQL SQLAlchemy never begins a transaction of its own: `Transaction` runs it
        # on the driver. Autocommit only sets a mode, no round trip.
        engine = self._database.autocommit_engine if postgres or self._single_statement else self._database.engine
        try:
            connection = await self._kept.acquire() if self._kept is not None else None
            if connection is None:
                connection = await engine.connect()
        except Exception as error:
            raise _unavailable(error) from error
        driver = driver_connection(connection) if postgres else None
        tx = Transaction(self._database, connection, driver, transactional=not self._single_statement)
        self._connection, self._tx = connection, tx
        self.users = SqlUserRepository(tx)
        self.accounts = SqlAccountRepository(tx)
        self.balances = SqlBalanceRepository(tx)
        self.ledger = SqlLedgerRepository(tx)
        self.orders = SqlOrderRepository(tx)
        self.executions = SqlExecutionRepository(tx)
        self.positions = SqlPositionRepository(tx)
        self.outcomes = SqlOutcomeRepository(tx)
        self.batch_inputs = SqlBatchInputRepository(tx)
        self.candles = SqlCandleRepository(tx)
        self.candle_files = SqlCandleFileIndex(tx)
        self.refresh_tokens = SqlRefreshTokenRepository(tx)
        self.journal = SqlJournalRepository(tx)
        self.replays = SqlReplayRepository(tx)
        self.pending_commands = SqlPendingCommandRepository(tx)
        self.api_keys = SqlApiKeyRepository(tx)
        self.strategy_runs = SqlStrategyRunRepository(tx)
        self.deployments = SqlStrategyDeploymentRepository(tx)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        connection, tx = self._connection, self._tx
        self._connection = self._tx = None
        if connection is None or tx is None:
            return
        healthy = False
        try:
            if tx.broken:
                await connection.invalidate()
            else:
                if tx.begun:
                    await tx.end("ROLLBACK")
                if connection.in_transaction():
                    await connection.rollback()
                healthy = True
        except Exception:
            # The server is gone (it discards the transaction itself): drop the connection. The
            # error that brought us here, if any, is the one worth raising.
            await invalidate_quietly(connection)
        finally:
            if self._kept is None or not self._kept.release(connection, keep=healthy):
                await close_quietly(connection)

    async def commit(self) -> None:
        connection, tx = self._require()
        if tx.driver is not None:
            await tx.end("COMMIT")
        else:
            with _translated(tx):
                if connection.in_transaction():
                    await connection.commit()
        tx.committed()

    async def rollback(self) -> None:
        connection, tx = self._require()
        if tx.driver is not None:
            await tx.end("ROLLBACK")
            return
        with _translated(tx):
            if connection.in_transaction():
                await connection.rollback()

    def _require(self) -> tuple[AsyncConnection, Transaction]:
        if self._connection is None or self._tx is None:
            raise RuntimeError("use the unit of work inside `async with`")
        return self._connection, self._tx


def _unavailable(error: Exception) -> Exception:
    translated = translate(error)
    if isinstance(translated, DependencyUnavailable):
        return translated
    # Failing to even connect is an outage whatever the driver calls it (bad host, refused login).
    return DependencyUnavailable(f"cannot connect to the database: {error}")


@contextlib.contextmanager
def _translated(tx: Transaction) -> Iterator[None]:
    """Outages and timeouts become `DependencyUnavailable`; a lost connection marks `tx` broken."""
    try:
        yield
    except Exception as error:
        translated = translate(error)
        if translated is error:
            raise
        tx.broken = tx.broken or connection_lost(error)
        raise translated from error
