"""The unit of work: one transaction across repositories. The only thing that commits."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Protocol, Self

from tradesim.ports.repositories import (
    AccountRepository,
    ApiKeyRepository,
    BalanceRepository,
    BatchInputRepository,
    CandleFileIndex,
    CandleRepository,
    ExecutionRepository,
    JournalRepository,
    LedgerRepository,
    OrderRepository,
    OutcomeRepository,
    PendingCommandRepository,
    PositionRepository,
    RefreshTokenRepository,
    ReplayRepository,
    StrategyDeploymentRepository,
    UserRepository,
)
from tradesim.ports.strategy_runs import StrategyRunRepository


class UnitOfWork(Protocol):
    """``async with uow:`` opens a transaction; leaving without `commit()` rolls it back.

    Raises:
        DependencyUnavailable: the store is down or timed out (on enter, any call, or commit).
    """

    users: UserRepository
    accounts: AccountRepository
    balances: BalanceRepository
    ledger: LedgerRepository
    orders: OrderRepository
    executions: ExecutionRepository
    positions: PositionRepository
    outcomes: OutcomeRepository
    batch_inputs: BatchInputRepository
    candles: CandleRepository
    candle_files: CandleFileIndex
    refresh_tokens: RefreshTokenRepository
    journal: JournalRepository
    replays: ReplayRepository
    pending_commands: PendingCommandRepository
    api_keys: ApiKeyRepository
    strategy_runs: StrategyRunRepository
    deployments: StrategyDeploymentRepository

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...


UnitOfWorkFactory = Callable[[], UnitOfWork]
"""A fresh unit of work per call.

A *single-statement* factory (the composition root's `single_statement_unit_of_work`) makes units
of work for a caller that writes at most one row and commits: the adapter may let each statement
commit on its own, which saves a store its transaction round trips on a hot path. Reads and the
one write behave as in any unit of work; never use one for work that must be all or nothing."""
