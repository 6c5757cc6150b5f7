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
from tradesim.application.strategy_catalogue import StrategyCatalogueReader
from tradesim.domain.accounts import AccountKind
from tradesim.domain.errors import InvalidInput, NotFound
from tradesim.domain.instruments import InstrumentCatalog
from tradesim.domain.replay_session import NotReplaySymbol
from tradesim.domain.strategy_deployment import DeploymentStatus, StrategyDeployment, check_timeframe
from tradesim.ports.clock import Clock
from tradesim.ports.unit_of_work import UnitOfWorkFactory

#: The kinds of account a deployment may trade on (a strategy account belongs to a backtest).
DEPLOYABLE = frozenset({AccountKind.LIVE, AccountKind.REPLAY})


class DeploymentService:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        directory: AccountDirectory,
        strategies: StrategyCatalogueReader,
        catalog: InstrumentCatalog,
        clock: Clock,
        ids: Callable[[], str],
    ) -> None:
        self._uow = uow_factory
        self._directory = directory
        self._strategies = strategies
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
            InvalidInput: a field missing or malformed, an unknown timeframe, a hyperparameter
                unknown, of the wrong type or out of range.
            NotFound: an unknown strategy, or the account is not one of the caller's live or replay accounts.
            RuleViolation: an unknown symbol, or not the symbol of the replay account's session.
            DeploymentExists: the account runs a deployment on the symbol already.
        """
        frame = check_timeframe(timeframe)
        self._strategies.get(strategy)
        if hyperparameters is not None and not isinstance(hyperparameters, Mapping):
            raise InvalidInput("hyperparameters must be an object of name: value")
        checked = self._strategies.hyperparameters(strategy, hyperparameters or {})
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
                strategy=strategy,
                symbol=instrument.symbol,
                timeframe=frame,
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
