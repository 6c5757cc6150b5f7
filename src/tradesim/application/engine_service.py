"""The worker's use case: drive a matching engine, persist what it did, then publish it."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal

from tradesim.application.persistence import record_events
from tradesim.domain.accounts import AccountKind
from tradesim.domain.commands import Command, PlaceOrder, RecordedCommand
from tradesim.domain.engine import MatchingEngine
from tradesim.domain.events import EngineEvent
from tradesim.domain.market import MarketEvent
from tradesim.ports.errors import DependencyUnavailable
from tradesim.ports.messaging import EventBus
from tradesim.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)


class EngineService:
    """Owns one engine. Accounts are loaded from the store the first time a command names them.

    A batch of commands is read for, applied and committed in one unit of work (its outcome
    in one write), and published only once committed. When the commit fails, the accounts
    involved are dropped from the engine, so that the next command or restart reloads them from
    the store, which stays the truth; the caller retries the command later (it was not
    acknowledged).
    """

    def __init__(
        self,
        engine: MatchingEngine,
        uow_factory: UnitOfWorkFactory,
        events: EventBus,
        symbols: frozenset[str] | None = None,
        outcome_uow_factory: UnitOfWorkFactory | None = None,
    ) -> None:
        """`symbols`: the symbols this engine owns (None: all). Only their positions and orders
        are loaded, so an engine never writes back the state of a symbol another worker owns.

        `outcome_uow_factory` (default `uow_factory`) serves the batches whose only write is
        their outcome (`OutcomeRepository.record`), all of them but those with a recorded
        command: where recording an outcome is one statement, its units of work may run each
        statement on its own (the composition root's `outcome_unit_of_work`), which saves a
        batch the BEGIN and COMMIT round trips. A batch's reads need no transaction: at read
        committed each statement sees what was committed when it began, in one or not."""
        self.engine = engine
        self._uow = uow_factory
        self._outcome_uow = outcome_uow_factory or uow_factory
        self._events = events
        self._symbols = symbols
        self._dirty: set[str] = set()

    def _owned(self, symbol: str) -> bool:
        return self._symbols is None or symbol in self._symbols

    async def handle(self, command: Command) -> list[EngineEvent]:
        """Apply a command once: an order the store shows as already taken in is a redelivery."""
        return await self.handle_batch([command])

    async def handle_batch(self, commands: Sequence[Command]) -> list[EngineEvent]:
        """Apply commands in order and commit everything they caused as one outcome.

        The same unit of work reads what the engine needs first (one read for the orders placed,
        one for the balances of the accounts named, the accounts new to the engine), so a batch
        costs one connection and one round trip per read rather than several per command.
        """
        events: list[EngineEvent] = []
        # A recorded command's record is removed by the transaction that writes its outcome.
        recording = any(isinstance(c, RecordedCommand) for c in commands)
        async with (self._uow if recording else self._outcome_uow)() as uow:
            fresh, recorded = await self._prepare(uow, commands)
            for command in fresh:
                events.extend(self.engine.handle(command))
            # A recorded command's record goes with its outcome, even one that changed nothing.
            if events or recorded:
                with self._forgotten_on_failure(events):
                    await record_events(uow, events)
                    await uow.commit()
        await self._publish(events)
        return events

    async def on_market(self, event: MarketEvent) -> list[EngineEvent]:
        await self._reload_dirty()
        return await self._commit_and_publish(self.engine.on_market(event))

    async def _prepare(self, uow: UnitOfWork, commands: Sequence[Command]) -> tuple[list[Command], bool]:
        """The commands still to apply, once the engine holds their accounts as stored, and
        whether records of recorded commands were removed (the transaction must commit then).

        A recorded command is applied by the transaction that removes its record, here, so the
        removal commits with its outcome or not at all; one whose record is gone was applied.
        """
        placing = [c.order_id for c in commands if isinstance(c, PlaceOrder) and c.order_id]
        # Every account the batch names, and those dropped after a failed commit: read in the same
        # statement as the orders taken in, before the redeliveries are known (a few rows more).
        inputs = await uow.batch_inputs.read(placing, sorted(_accounts_named(commands) | self._dirty))
        recorded = [c.command_id for c in commands if isinstance(c, RecordedCommand) and c.command_id]
        removed = await uow.pending_commands.remove_many(recorded) if recorded else set()
        # Applied before this batch: an order taken in already, a command whose record is gone.
        applied = {("order", i) for i in inputs.taken_in} | {("command", i) for i in recorded if i not in removed}
        fresh: list[Command] = []
        seen: set[tuple[str, str]] = set()
        for command in commands:
            identity = _identity(command)
            if identity is not None:
                if identity in seen or identity in applied:
                    continue  # a second copy in this batch (the sweeper's, say), or a redelivery
                seen.add(identity)
            fresh.append(command)
        await self._refresh(uow, _accounts_named(fresh), inputs.balances)
        return fresh, bool(removed)

    async def _refresh(
        self, uow: UnitOfWork, account_ids: set[str], balances: Mapping[str, Mapping[str, Decimal]] | None = None
    ) -> None:
        """Load the accounts new to the engine (and those dropped after a failed commit); give the
        others their stored balances: several workers may fill for one account (one per symbol
        partition), and the stored balance is the one to check margin against. `balances`: read
        already for these accounts and the dropped ones."""
        wanted = account_ids | self._dirty
        if not wanted:
            return
        if balances is None or not wanted.issubset(balances):
            # (An account dropped since the read, by a batch that failed meanwhile, is read now.)
            balances = await uow.balances.get_many(sorted(wanted))
        missing = sorted(a for a in wanted if not self.engine.has_account(a))
        await self._load(uow, missing, balances)
        self._dirty.clear()
        for account_id in account_ids.difference(missing):
            self.engine.sync_balances(account_id, balances[account_id])

    async def _load(
        self, uow: UnitOfWork, account_ids: Sequence[str], balances: Mapping[str, Mapping[str, Decimal]]
    ) -> None:
        known = [a for a in account_ids if await uow.accounts.get(a) is not None]
        if not known:
            return
        open_orders = [o for o in await uow.orders.list_open(known) if self._owned(o.symbol)]
        for account_id in known:
            positions = await uow.positions.list_by_account(account_id)
            self.engine.restore_account(
                account_id,
                balances[account_id],
                [p for p in positions if self._owned(p.symbol)],
                [o for o in open_orders if o.account_id == account_id],
            )

    async def _reload_dirty(self) -> None:
        """Accounts dropped after a failed commit come back from the store as soon as it answers."""
        if not self._dirty:
            return
        async with self._uow() as uow:
            await self._refresh(uow, set())

    async def restore_all(self) -> int:
        """Load every live account with an open order or position on an owned symbol; returns how many."""
        async with self._uow() as uow:
            open_orders = [o for o in await uow.orders.list_open() if self._owned(o.symbol)]
            accounts = await uow.accounts.list_all()
            loaded = 0
            for account in accounts:
                if account.kind is not AccountKind.LIVE:
                    continue  # a replay's or a strategy run's account trades on its own engine
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
        with self._forgotten_on_failure(events):
            async with self._outcome_uow() as uow:
                await record_events(uow, events)
                await uow.commit()
        await self._publish(events)
        return list(events)

    @contextlib.contextmanager
    def _forgotten_on_failure(self, events: Sequence[EngineEvent]) -> Iterator[None]:
        """The engine moved ahead of the store; the store is the truth, so forget and reload."""
        try:
            yield
        except Exception:
            for account_id in {e.account_id for e in events}:
                self.engine.forget_account(account_id)
                self._dirty.add(account_id)
            raise

    async def _publish(self, events: Sequence[EngineEvent]) -> None:
        if not events:
            return
        try:
            await self._events.publish(events)
        except DependencyUnavailable as error:
            # Committed is done: the record is in the store and the routes show it; only the
            # live push is lost (a redelivery would re-apply commands that are not idempotent).
            log.warning("%d events committed but not pushed (%s)", len(events), error)


def _accounts_named(commands: Sequence[Command]) -> set[str]:
    return {a for c in commands if (a := getattr(c, "account_id", None)) is not None}


def _identity(command: Command) -> tuple[str, str] | None:
    """What copies of a command share: its order's id for a placement, its record's id for a
    recorded command; None for a command that is neither (copies of it are not told apart)."""
    if isinstance(command, PlaceOrder) and command.order_id:
        return ("order", command.order_id)
    if isinstance(command, RecordedCommand) and command.command_id:
        return ("command", command.command_id)
    return None
