"""The one way an engine's work reaches the store and the buses: dedupe, apply, record, publish.

Every driver of a `MatchingEngine` goes through an `EngineStep`: the live worker (`EngineService`,
one engine per set of symbol partitions), each Bar Replay session (`ActiveReplay`, one engine per
session on a replay clock) and the strategy runner (one engine per worker or per run). They differ
in where their input comes from and what else they keep; the rules below are the same for all.

Interface (for a new driver):

``step = EngineStep(engine, uow_factory, events, symbols=None, outcome_uow_factory=None, fence=None)``
    `engine` is the driver's; the step never builds one. `symbols`: the symbols this engine owns
    (None: all), so only their positions and orders are loaded. `outcome_uow_factory`: see
    `EngineService`. `fence()`, if given, runs just before anything is written and raises when
    the driver may no longer write (a worker whose leases may have lapsed); the step then fails
    as a refused commit does.

``events = await step.commands(commands, save=None, then=None)``
    Trading commands (`PlaceOrder`, `CancelOrder`, ...), in order. Dedupe: a `PlaceOrder` whose
    stored order the store shows taken in (accepted, or ended) is a redelivery and is skipped, as
    is a `RecordedCommand` whose record is gone, and a second copy of either in the batch. An
    account the commands name is loaded from the store the first time (balances, positions and
    open orders on owned symbols) and given its stored balance every time (several engines may
    fill for one account). Then the engine applies them.

``events = await step.market(produce, save=None, then=None)``
    Market input: `produce()` drives the engine (a ticker, a bar's ticks, a funding round) and
    returns the events it caused; it runs after the accounts dropped by a failed step are back.

Both then record and publish: the events (and `save(uow)`, the driver's own state such as a
session record, in the same transaction, so the account and that state agree) are committed in
one unit of work, only when there is something to commit; `then()`, if given, is awaited after
the commit, whether or not there were events (a replay publishes its bar there, before the fills
it caused); last the events are published. A failed commit makes the engine forget the accounts
involved, which come back from the store (the truth) before the next step; the error goes to
the caller, who must not acknowledge the input. An outage of the event bus after the commit is
logged, not raised: what is committed is done, and the routes show it.

``await step.reload(account_ids)``: forget those accounts and load them as stored (a driver
taking over a session or a deployment).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from decimal import Decimal

from tradesim.application.persistence import record_events
from tradesim.domain.commands import Command, PlaceOrder, RecordedCommand
from tradesim.domain.engine import MatchingEngine
from tradesim.domain.events import EngineEvent
from tradesim.ports.errors import DependencyUnavailable
from tradesim.ports.messaging import EventBus
from tradesim.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)

#: Writes the driver's own state in the step's transaction.
Save = Callable[[UnitOfWork], Awaitable[None]]
#: Awaited after the commit, before the events are published.
Then = Callable[[], Awaitable[object]]


class EngineStep:
    def __init__(
        self,
        engine: MatchingEngine,
        uow_factory: UnitOfWorkFactory,
        events: EventBus,
        *,
        symbols: frozenset[str] | None = None,
        outcome_uow_factory: UnitOfWorkFactory | None = None,
        fence: Callable[[], None] | None = None,
    ) -> None:
        self.engine = engine
        self._fence = fence
        self._uow = uow_factory
        self._outcome_uow = outcome_uow_factory or uow_factory
        self._events = events
        self._symbols = symbols
        self._dirty: set[str] = set()

    def owned(self, symbol: str) -> bool:
        return self._symbols is None or symbol in self._symbols

    async def commands(
        self, commands: Sequence[Command], *, save: Save | None = None, then: Then | None = None
    ) -> list[EngineEvent]:
        """Apply commands in order and commit everything they caused as one outcome.

        The same unit of work reads what the engine needs first (one read for the orders placed,
        one for the balances of the accounts named, the accounts new to the engine), so a batch
        costs one connection and one round trip per read rather than several per command.
        """
        events: list[EngineEvent] = []
        # A recorded command's record is removed by the transaction that writes its outcome.
        recording = save is not None or any(isinstance(c, RecordedCommand) for c in commands)
        async with (self._uow if recording else self._outcome_uow)() as uow:
            fresh, recorded = await self._prepare(uow, commands)
            for command in fresh:
                events.extend(self.engine.handle(command))
            # A recorded command's record goes with its outcome, even one that changed nothing.
            if events or recorded:
                await self._record(uow, events, save)
        await self._publish(events, then)
        return events

    async def market(
        self, produce: Callable[[], Sequence[EngineEvent]], *, save: Save | None = None, then: Then | None = None
    ) -> list[EngineEvent]:
        await self._reload_dirty()
        events = list(produce())
        if events:
            async with (self._uow if save is not None else self._outcome_uow)() as uow:
                await self._record(uow, events, save)
        await self._publish(events, then)
        return events

    async def reload(self, account_ids: Sequence[str]) -> None:
        async with self._uow() as uow:
            balances = await uow.balances.get_many(sorted(account_ids))
            for account_id in account_ids:
                if self.engine.has_account(account_id):
                    self.engine.forget_account(account_id)
            await self._load(uow, account_ids, balances)

    async def _record(self, uow: UnitOfWork, events: Sequence[EngineEvent], save: Save | None) -> None:
        with self._forgotten_on_failure(events):
            if self._fence is not None:
                self._fence()
            await record_events(uow, events)
            if save is not None:
                await save(uow)
            await uow.commit()

    async def _prepare(self, uow: UnitOfWork, commands: Sequence[Command]) -> tuple[list[Command], bool]:
        """The commands still to apply, once the engine holds their accounts as stored, and
        whether records of recorded commands were removed (the transaction must commit then).

        A recorded command is applied by the transaction that removes its record, here, so the
        removal commits with its outcome or not at all; one whose record is gone was applied.
        """
        placing = [c.order_id for c in commands if isinstance(c, PlaceOrder) and c.order_id]
        # Every account the batch names, and those dropped after a failed commit: read in the same
        # statement as the orders taken in, before the redeliveries are known (a few rows more).
        inputs = await uow.batch_inputs.read(placing, sorted(accounts_named(commands) | self._dirty))
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
        await self._refresh(uow, accounts_named(fresh), inputs.balances)
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
        open_orders = [o for o in await uow.orders.list_open(known) if self.owned(o.symbol)]
        for account_id in known:
            positions = await uow.positions.list_by_account(account_id)
            self.engine.restore_account(
                account_id,
                balances[account_id],
                [p for p in positions if self.owned(p.symbol)],
                [o for o in open_orders if o.account_id == account_id],
            )

    async def _reload_dirty(self) -> None:
        """Accounts dropped after a failed commit come back from the store as soon as it answers."""
        if not self._dirty:
            return
        async with self._uow() as uow:
            await self._refresh(uow, set())

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

    async def _publish(self, events: Sequence[EngineEvent], then: Then | None) -> None:
        if then is not None:
            await then()
        if not events:
            return
        try:
            await self._events.publish(events)
        except DependencyUnavailable as error:
            # Committed is done: the record is in the store and the routes show it; only the
            # live push is lost (a redelivery would re-apply commands that are not idempotent).
            log.warning("%d events committed but not pushed (%s)", len(events), error)


def accounts_named(commands: Sequence[Command]) -> set[str]:
    return {a for c in commands if (a := getattr(c, "account_id", None)) is not None}


def _identity(command: Command) -> tuple[str, str] | None:
    """What copies of a command share: its order's id for a placement, its record's id for a
    recorded command; None for a command that is neither (copies of it are not told apart)."""
    if isinstance(command, PlaceOrder) and command.order_id:
        return ("order", command.order_id)
    if isinstance(command, RecordedCommand) and command.command_id:
        return ("command", command.command_id)
    return None
