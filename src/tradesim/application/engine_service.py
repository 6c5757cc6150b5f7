"""The worker's use case: drive a matching engine, persist what it did, then publish it."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from tradesim.application.persistence import record_events
from tradesim.domain.commands import Command, PlaceOrder
from tradesim.domain.engine import MatchingEngine
from tradesim.domain.events import EngineEvent
from tradesim.domain.market import MarketEvent
from tradesim.ports.errors import DependencyUnavailable
from tradesim.ports.messaging import EventBus
from tradesim.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)


class EngineService:
    """Owns one engine. Accounts are loaded from the store the first time a command names them.

    Every batch of events is committed in one transaction before it is published. When the
    commit fails, the accounts involved are dropped from the engine, so that the next command
    or restart reloads them from the store, which stays the truth; the caller retries the
    command later (it was not acknowledged).
    """

    def __init__(
        self,
        engine: MatchingEngine,
        uow_factory: UnitOfWorkFactory,
        events: EventBus,
        symbols: frozenset[str] | None = None,
    ) -> None:
        """`symbols`: the symbols this engine owns (None: all). Only their positions and orders
        are loaded, so an engine never writes back the state of a symbol another worker owns."""
        self.engine = engine
        self._uow = uow_factory
        self._events = events
        self._symbols = symbols
        self._dirty: set[str] = set()

    def _owned(self, symbol: str) -> bool:
        return self._symbols is None or symbol in self._symbols

    async def handle(self, command: Command) -> list[EngineEvent]:
        """Apply a command once: an order the store shows as already taken in is a redelivery."""
        return await self.handle_batch([command])

    async def handle_batch(self, commands: Sequence[Command]) -> list[EngineEvent]:
        """Apply commands in order and commit everything they caused in one transaction."""
        await self._reload_dirty()
        fresh: list[Command] = []
        placing: set[str] = set()
        async with self._uow() as uow:
            for command in commands:
                if isinstance(command, PlaceOrder) and command.order_id:
                    if command.order_id in placing:
                        continue  # the sweeper's copy in the same batch as the original
                    stored = await uow.orders.get(command.order_id)
                    if stored is not None and (stored.accepted_time or stored.status.is_terminal):
                        continue
                    placing.add(command.order_id)
                account_id = getattr(command, "account_id", None)
                if account_id is not None and not self.engine.has_account(account_id):
                    await self._load(uow, account_id)
                elif account_id is not None:
                    # Several workers may fill for one account (one per symbol partition); the
                    # stored balance is the one to check margin against.
                    self.engine.sync_balances(account_id, await uow.balances.get(account_id))
                fresh.append(command)
        events: list[EngineEvent] = []
        for command in fresh:
            events.extend(self.engine.handle(command))
        return await self._commit_and_publish(events)

    async def on_market(self, event: MarketEvent) -> list[EngineEvent]:
        await self._reload_dirty()
        return await self._commit_and_publish(self.engine.on_market(event))

    async def _load(self, uow: UnitOfWork, account_id: str) -> None:
        if await uow.accounts.get(account_id) is None:
            return
        positions = await uow.positions.list_by_account(account_id)
        orders = await uow.orders.list_open([account_id])
        self.engine.restore_account(
            account_id,
            await uow.balances.get(account_id),
            [p for p in positions if self._owned(p.symbol)],
            [o for o in orders if self._owned(o.symbol)],
        )

    async def _reload_dirty(self) -> None:
        """Accounts dropped after a failed commit come back from the store as soon as it answers."""
        if not self._dirty:
            return
        async with self._uow() as uow:
            for account_id in sorted(self._dirty):
                if not self.engine.has_account(account_id):
                    await self._load(uow, account_id)
        self._dirty.clear()

    async def restore_all(self) -> int:
        """Load every live account with an open order or position on an owned symbol; returns how many."""
        async with self._uow() as uow:
            open_orders = [o for o in await uow.orders.list_open() if self._owned(o.symbol)]
            accounts = await uow.accounts.list_all()
            loaded = 0
            for account in accounts:
                if account.kind == "replay":
                    continue  # a replay account trades on its session's engine, never on live prices
                positions = [
                    p for p in await uow.positions.list_by_account(account.account_id) if self._owned(p.symbol)
                ]
                orders = [o for o in open_orders if o.account_id == account.account_id]
                if not orders and not any(p.side is not None for p in positions):
                    continue
                self.engine.restore_account(
                    account.account_id, await uow.balances.get(account.account_id), positions, orders
                )
                loaded += 1
        return loaded

    async def _commit_and_publish(self, events: Sequence[EngineEvent]) -> list[EngineEvent]:
        if not events:
            return []
        try:
            async with self._uow() as uow:
                await record_events(uow, events)
                await uow.commit()
        except Exception:
            # The engine moved ahead of the store; the store is the truth, so forget and reload.
            for account_id in {e.account_id for e in events}:
                self.engine.forget_account(account_id)
                self._dirty.add(account_id)
            raise
        try:
            await self._events.publish(events)
        except DependencyUnavailable as error:
            # Committed is done: the record is in the store and the routes show it; only the
            # live push is lost (a redelivery would re-apply commands that are not idempotent).
            log.warning("%d events committed but not pushed (%s)", len(events), error)
        return list(events)
