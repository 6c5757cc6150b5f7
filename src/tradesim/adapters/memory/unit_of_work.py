"""The in-memory unit of work: isolation by copying, commit by replaying the write log."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from tradesim.adapters.memory.api_keys import MemoryApiKeyRepository
from tradesim.adapters.memory.pending_commands import MemoryPendingCommandRepository
from tradesim.adapters.memory.replays import MemoryReplayRepository
from tradesim.adapters.memory.repositories import (
    MemoryAccountRepository,
    MemoryBalanceRepository,
    MemoryBatchInputRepository,
    MemoryCandleFileIndex,
    MemoryCandleRepository,
    MemoryExecutionRepository,
    MemoryJournalRepository,
    MemoryLedgerRepository,
    MemoryOrderRepository,
    MemoryOutcomeRepository,
    MemoryPositionRepository,
    MemoryRefreshTokenRepository,
    MemoryUserRepository,
    Op,
)
from tradesim.adapters.memory.strategy_deployments import MemoryStrategyDeploymentRepository
from tradesim.adapters.memory.strategy_runs import MemoryStrategyRunRepository
from tradesim.adapters.memory.tables import MemoryDatabase, Tables
from tradesim.ports.errors import DependencyUnavailable


class MemoryUnitOfWork:
    """Reads see the transaction's own writes; `commit` replays them onto the shared tables.

    Replaying operations (rather than swapping in the copy) makes concurrent transactions
    compose the way row-level updates do: two balance increments both land, and a unique
    constraint is checked again against what is committed. A failing commit changes nothing.
    """

    def __init__(self, database: MemoryDatabase) -> None:
        self._db = database
        self._log: list[Op] = []
        self._committed = False

    async def __aenter__(self) -> Self:
        self._check_available()
        work = self._db.tables.copy()
        self._log = []
        self._committed = False
        self.users = MemoryUserRepository(work, self._log)
        self.accounts = MemoryAccountRepository(work, self._log)
        self.balances = MemoryBalanceRepository(work, self._log)
        self.ledger = MemoryLedgerRepository(work, self._log)
        self.orders = MemoryOrderRepository(work, self._log)
        self.executions = MemoryExecutionRepository(work, self._log)
        self.positions = MemoryPositionRepository(work, self._log)
        self.outcomes = MemoryOutcomeRepository(work, self._log)
        self.batch_inputs = MemoryBatchInputRepository(self.orders, self.balances)
        self.candles = MemoryCandleRepository(work, self._log)
        self.candle_files = MemoryCandleFileIndex(work, self._log)
        self.refresh_tokens = MemoryRefreshTokenRepository(work, self._log)
        self.journal = MemoryJournalRepository(work, self._log)
        self.replays = MemoryReplayRepository(work, self._log)
        self.pending_commands = MemoryPendingCommandRepository(work, self._log)
        self.api_keys = MemoryApiKeyRepository(work, self._log)
        self.strategy_runs = MemoryStrategyRunRepository(work, self._log)
        self.deployments = MemoryStrategyDeploymentRepository(work, self._log)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if not self._committed:
            await self.rollback()

    async def commit(self) -> None:
        self._check_available()
        if self._db.commits_fail:
            raise DependencyUnavailable("the in-memory database failed the commit")
        trial: Tables = self._db.tables.copy()
        for op in self._log:
            op(trial)  # raises on a constraint broken since the transaction began; nothing is applied
        self._db.tables = trial
        self._log.clear()
        self._committed = True

    async def rollback(self) -> None:
        self._log.clear()

    def _check_available(self) -> None:
        if not self._db.available:
            raise DependencyUnavailable("the in-memory database is marked unavailable")


def memory_uow_factory(database: MemoryDatabase) -> MemoryUnitOfWork:
    return MemoryUnitOfWork(database)
