"""Live strategy deployments on the api side: start, read and stop them. Never runs a strategy.

A deployment runs on one of the caller's live or replay accounts (anything else is a 404, as an
account of someone else's is). At most one deployment runs per account and symbol: two strategies
on one position would each see the other's fills as their own. A replay account trades only its
session's symbol. Stopping records the stop; the worker running the deployment sees it at its
next lease renewal and cancels the open orders the strategy made (the position stays, as a person
stopping a bot keeps theirs).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from tradesim.application.directory import AccountDirectory
from tradesim.application.published_strategies import PublishedStrategies
from tradesim.domain.accounts import AccountKind
from tradesim.domain.errors import NotFound
from tradesim.domain.instruments import InstrumentCatalog
from tradesim.domain.replay_session import NotReplaySymbol
from tradesim.domain.strategy_deployment import DeploymentStatus, StrategyDeployment
from tradesim.ports.clock import Clock
from tradesim.ports.strategy_runs import StrategyCatalogueBoard
from tradesim.ports.unit_of_work import UnitOfWorkFactory

#: The kinds of account a deployment may trade on (a strategy account belongs to a backtest).
DEPLOYABLE = frozenset({AccountKind.LIVE, AccountKind.REPLAY})


class DeploymentService:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        directory: AccountDirectory,
        board: StrategyCatalogueBoard,
        catalog: InstrumentCatalog,
        clock: Clock,
        ids: Callable[[], str],
    ) -> None:
        self._uow = uow_factory
        self._directory = directory
        self._strategies = PublishedStrategies(board)
        self._catalog = catalog
        self._clock = clock
        self._ids = ids

    async def create(
        self,
        user_id: str,
        *,
        strategy: str,
        account_id: str,
        symbol: str,
        timeframe: str,
        hyperparameters: Mapping[str, Any] | None = None,
    ) -> StrategyDeployment:
        """Record a running deployment; a worker picks it up.

        Raises:
            NoStrategyWorker: no worker has published the strategies it runs.
            UnknownStrategy, BrokenStrategy: a strategy the workers do not have, or could not load.
            InvalidInput: a field missing or malformed, an unknown timeframe, a hyperparameter
                unknown, of the wrong type or out of range.
            NotFound: the account is not one of the caller's live or replay accounts.
            RuleViolation: an unknown symbol, or not the symbol of the replay account's session.
            DeploymentExists: the account runs a deployment on the symbol already.
        """
        spec, checked = await self._strategies.choose(strategy, timeframe, hyperparameters)
        instrument = self._catalog.get(symbol)
        now = self._clock.now_ms()
        async with self._uow() as uow:
            entry = await self._directory.owned(user_id, account_id, uow)
            if entry.kind not in DEPLOYABLE:
                raise NotFound(f"account {account_id} not found")
            if entry.kind is AccountKind.REPLAY:
                session = await uow.replays.get_by_account(account_id)
                if session is not None and session.symbol != instrument.symbol:
                    raise NotReplaySymbol(
                        f"account {account_id} belongs to a replay of {session.symbol}; deploy on that symbol"
                    )
            deployment = StrategyDeployment(
                deployment_id=self._ids(),
                user_id=user_id,
                account_id=account_id,
                strategy=spec.name,
                symbol=instrument.symbol,
                timeframe=timeframe,
                hyperparameters=checked,
                created_time=now,
                updated_time=now,
            )
            await uow.deployments.add(deployment)
            await uow.commit()
        return deployment

    async def get(self, user_id: str, deployment_id: str) -> StrategyDeployment:
        async with self._uow() as uow:
            found = await uow.deployments.get(deployment_id)
        if found is None or found.user_id != user_id:
            raise NotFound(f"deployment {deployment_id} not found")
        return found

    async def list(self, user_id: str, *, limit: int = 100) -> list[StrategyDeployment]:
        async with self._uow() as uow:
            return await uow.deployments.list_by_user(user_id, limit=limit)

    async def stop(self, user_id: str, deployment_id: str) -> StrategyDeployment:
        """Mark it stopped (a stopped one stays so); `DeploymentConflict` for a failed one."""
        current = await self.get(user_id, deployment_id)
        stopped = current.stop(self._clock.now_ms())
        if stopped is current:
            return current
        async with self._uow() as uow:
            changed = await uow.deployments.change_status(stopped, DeploymentStatus.RUNNING)
            await uow.commit()
        # It failed (or was stopped) in the meantime: answer with what it is now.
        return stopped if changed else await self.stop(user_id, deployment_id)
