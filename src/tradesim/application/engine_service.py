"""The live worker's use case: drive a matching engine on the live market through the engine step."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from tradesim.application.engine_step import EngineStep
from tradesim.domain.accounts import AccountKind
from tradesim.domain.commands import Command
from tradesim.domain.engine import MatchingEngine
from tradesim.domain.events import EngineEvent
from tradesim.domain.market import MarketEvent
from tradesim.ports.messaging import EventBus
from tradesim.ports.unit_of_work import UnitOfWorkFactory


class EngineService:
    """Owns one engine. Accounts are loaded from the store the first time a command names them.

    A batch of commands is read for, applied and committed in one unit of work (its outcome
    in one write), and published only once committed (`EngineStep`, which every engine's driver
    shares). When the commit fails, the accounts involved are dropped from the engine, so that
    the next command or restart reloads them from the store, which stays the truth; the caller
    retries the command later (it was not acknowledged).
    """

    def __init__(
        self,
        engine: MatchingEngine,
        uow_factory: UnitOfWorkFactory,
        events: EventBus,
        symbols: frozenset[str] | None = None,
        outcome_uow_factory: UnitOfWorkFactory | None = None,
        fence: Callable[[], None] | None = None,
    ) -> None:
        """`symbols`: the symbols this engine owns (None: all). Only their positions and orders
        are loaded, so an engine never writes back the state of a symbol another worker owns.

        `outcome_uow_factory` (default `uow_factory`) serves the batches whose only write is
        their outcome (`OutcomeRepository.record`), all of them but those with a recorded
        command: where recording an outcome is one statement, its units of work may run each
        statement on its own (the composition root's `outcome_unit_of_work`), which saves a
        batch the BEGIN and COMMIT round trips. A batch's reads need no transaction: at read
        committed each statement sees what was committed when it began, in one or not.

        `fence`: as `EngineStep` takes it."""
        self.engine = engine
        self._uow = uow_factory
        self._step = EngineStep(
            engine, uow_factory, events, symbols=symbols, outcome_uow_factory=outcome_uow_factory, fence=fence
        )

    async def handle(self, command: Command) -> list[EngineEvent]:
        """Apply a command once: an order the store shows as already taken in is a redelivery."""
        return await self._step.commands([command])

    async def handle_batch(self, commands: Sequence[Command]) -> list[EngineEvent]:
        """Apply commands in order and commit everything they caused as one outcome."""
        return await self._step.commands(commands)

    async def on_market(self, event: MarketEvent) -> list[EngineEvent]:
        return await self._step.market(lambda: self.engine.on_market(event))

    async def restore_all(self) -> int:
        """Load every live account with an open order or position on an owned symbol; returns how many."""
        async with self._uow() as uow:
            open_orders = [o for o in await uow.orders.list_open() if self._step.owned(o.symbol)]
            accounts = await uow.accounts.list_all()
            loaded = 0
            for account in accounts:
                if account.kind is not AccountKind.LIVE:
                    continue  # a replay's or a strategy run's account trades on its own engine
                positions = [
                    p for p in await uow.positions.list_by_account(account.account_id) if self._step.owned(p.symbol)
                ]
                orders = [o for o in open_orders if o.account_id == account.account_id]
                if not orders and not any(p.side is not None for p in positions):
                    continue
                self.engine.restore_account(
                    account.account_id, await uow.balances.get(account.account_id), positions, orders
                )
                loaded += 1
        return loaded
