"""A simulation worker: owns some partitions of the order queue and runs their matching engine.

Partitions (symbols hashed) are owned through leases; the live workers share them round-robin.
When the set a worker owns changes (a worker joined, left or died), it rebuilds its engine for
the new set from the database, which is the truth. Commands are handled in batches: every
command of a batch goes through the engine, everything it caused is committed in one
transaction, then published, then the batch is acknowledged, so a crash at any point leaves
either nothing or everything, and unacknowledged commands come back (idempotently).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

import attrs

from tradesim.application.engine_service import EngineService
from tradesim.domain.commands import Command
from tradesim.domain.engine import MatchingEngine
from tradesim.domain.instruments import InstrumentCatalog
from tradesim.domain.market import MarketEvent
from tradesim.domain.order_rules import command_from_order
from tradesim.ports.clock import Clock
from tradesim.ports.coordination import PartitionLeases, fair_share
from tradesim.ports.errors import DependencyUnavailable
from tradesim.ports.messaging import Delivery, EventBus, OrderQueue, PriceBus, Subscription
from tradesim.ports.unit_of_work import UnitOfWorkFactory

log = logging.getLogger(__name__)
Router = Callable[[Sequence[Command]], Awaitable[list[Command]]]


@attrs.frozen
class WorkerConfig:
    worker_id: str
    lease_ttl_ms: int = 10_000
    rebalance_every_ms: int = 2_000
    batch_size: int = 200
    block_ms: int = 100
    #: Under load (the read, or the batch before it, held more than one command) and after a
    #: read that found fewer commands than a batch holds, wait this long for more: one transaction
    #: for several commands costs far less than one each. A lone command on an idle worker does
    #: not wait.
    linger_ms: int = 2
    reclaim_idle_ms: int = 15_000
    sweep_every_ms: int = 5_000
    #: A recorded order nobody took in, or a recorded command nobody applied, for this long is
    #: queued again (Redis may have lost it).
    sweep_after_ms: int = 10_000

    @property
    def lease_margin_ms(self) -> int:
        """How long before its leases lapse a worker stops applying anything: the time a batch
        may take from that check to its commit (a rebalance round renews well before that)."""
        return self.lease_ttl_ms // 4


class LeasesUncertain(DependencyUnavailable):
    """The worker's leases may have lapsed before it could write: the batch waits for a renewal."""


class Worker:
    def __init__(
        self,
        config: WorkerConfig,
        *,
        engine_factory: Callable[[], MatchingEngine],
        uow_factory: UnitOfWorkFactory,
        queue: OrderQueue,
        prices: PriceBus,
        events: EventBus,
        leases: PartitionLeases,
        catalog: InstrumentCatalog,
        clock: Clock,
        route: Router | None = None,
        on_take_over: Callable[[], None] | None = None,
        outcome_uow_factory: UnitOfWorkFactory | None = None,
    ) -> None:
        """`route` takes the commands bound elsewhere (a replay account's go to its session) out
        of a batch and returns those for the live engine, in order. `on_take_over` runs after
        each take-over, with the rebuilt engine in place and before any command reaches it (the
        worker command settles its heap there: `entrypoints/heap.py`). `outcome_uow_factory`:
        as `EngineService` takes it."""
        self.config = config
        self._route = route
        self._on_take_over = on_take_over
        self._engine_factory = engine_factory
        self._uow = uow_factory
        self._outcome_uow = outcome_uow_factory
        self._queue = queue
        self._prices = prices
        self._events = events
        self._leases = leases
        self._catalog = catalog
        self._clock = clock
        self._lock = asyncio.Lock()
        self.owned: frozenset[int] = frozenset()
        self.service = self._service(frozenset())
        self._price_task: asyncio.Task[None] | None = None
        self.processed = 0
        self._requeued: dict[str, int] = {}
        # The partitions whose leases this worker surely holds, and until when (by its clock,
        # counted from before the renewal was sent, so never later than the lease store's).
        self._held: frozenset[int] = frozenset()
        self._held_until = 0
        # The batch in hand routed once: a retry must not send a replay's commands twice.
        self._routed: tuple[list[str], list[Command]] | None = None

    def _service(self, symbols: frozenset[str]) -> EngineService:
        return EngineService(
            self._engine_factory(), self._uow, self._events, symbols, self._outcome_uow, fence=self._fence
        )

    def _fence(self) -> None:
        """Checked again just before a batch or a price step writes: the engine work since the
        check in `apply` may have taken long enough for the leases to lapse."""
        if not self.holds_leases():
            raise LeasesUncertain(f"worker {self.config.worker_id} is not sure it still holds its partitions")

    def symbols_of(self, partitions: frozenset[int]) -> frozenset[str]:
        return frozenset(i.symbol for i in self._catalog if self._queue.partition_of(i.symbol) in partitions)

    async def run(self, stop: asyncio.Event) -> None:
        """Work until `stop` is set; then give the partitions back so others take over at once."""
        loops = [
            asyncio.create_task(self._keep_leases(stop), name="leases"),
            asyncio.create_task(self._consume(stop), name="commands"),
            asyncio.create_task(self._sweep(stop), name="sweeper"),
        ]
        stopped = asyncio.create_task(stop.wait(), name="stop")
        try:
            done, _ = await asyncio.wait([stopped, *loops], return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if task is not stopped and task.exception() is not None:
                    # A loop died of a bug: stop the whole worker so its supervisor restarts it.
                    log.critical("worker %s: %s loop failed", self.config.worker_id, task.get_name())
                    raise task.exception()  # type: ignore[misc]
        finally:
            stopped.cancel()
            for task in loops:
                task.cancel()
            await asyncio.gather(*loops, return_exceptions=True)
            await self._stop_prices()
            with contextlib.suppress(Exception):
                await self._leases.release(self.config.worker_id, self.owned)
                await self._leases.leave(self.config.worker_id)

    # -- ownership -----------------------------------------------------------------------------

    async def _keep_leases(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.rebalance()
            except DependencyUnavailable as error:
                log.warning("worker %s: cannot reach the lease store (%s)", self.config.worker_id, error)
            await _sleep_or_stop(stop, self.config.rebalance_every_ms)

    async def rebalance(self) -> None:
        """Renew what we hold, give up what is no longer ours, take what is ours and free."""
        cfg = self.config
        started = self._clock.now_ms()
        live = await self._leases.heartbeat(cfg.worker_id, cfg.lease_ttl_ms)
        target = fair_share(cfg.worker_id, live, self._queue.partitions)
        held = await self._leases.renew(cfg.worker_id, self.owned, cfg.lease_ttl_ms)
        # A lease that lapsed may have been another worker's meanwhile, who wrote there: the
        # engine's state of those partitions is stale even if we take the lease again.
        lapsed = self.owned - held
        surplus = held - target
        now_held = set(held - surplus)
        for partition in sorted(target - now_held):
            if await self._leases.acquire(cfg.worker_id, partition, cfg.lease_ttl_ms):
                now_held.add(partition)
        self._note_held(frozenset(now_held) | surplus, started)
        if frozenset(now_held) != self.owned or lapsed:
            # A rebuild can outlast a lease (hundreds of accounts on a busy machine): renew
            # meanwhile, or another worker takes the partitions while this one still serves them.
            async with self._renewing(frozenset(now_held) | surplus):
                await self._take_over(frozenset(now_held))
        if surplus:
            # Only now: the take-over waited for any batch in flight on them, so the next owner
            # rebuilds from a store that already holds everything this worker did there.
            await self._leases.release(cfg.worker_id, surplus)
            self._held -= surplus

    def _note_held(self, partitions: frozenset[int], renewed_from: int) -> None:
        self._held = partitions
        self._held_until = renewed_from + self.config.lease_ttl_ms

    def holds_leases(self) -> bool:
        """Whether this worker may still write for the partitions it holds: its leases surely
        last beyond the margin a batch needs to commit. A worker that stalled past that (its
        rebalance stuck, its process starved) applies nothing until it has renewed them, since
        another worker may own them by now (and overwrite positions with its own)."""
        return self._clock.now_ms() < self._held_until - self.config.lease_margin_ms

    @contextlib.asynccontextmanager
    async def _renewing(self, partitions: frozenset[int]) -> AsyncIterator[None]:
        cfg = self.config
        # Told to stop rather than cancelled: a cancellation landing inside a Redis call can be
        # swallowed by the client, and the loop would then renew leases we mean to release.
        done = asyncio.Event()

        async def renew() -> None:
            while True:
                await _sleep_or_stop(done, cfg.rebalance_every_ms)
                if done.is_set():
                    return
                started = self._clock.now_ms()
                try:
                    await self._leases.heartbeat(cfg.worker_id, cfg.lease_ttl_ms)
                    held = await self._leases.renew(cfg.worker_id, partitions, cfg.lease_ttl_ms)
                except DependencyUnavailable as error:
                    log.warning("worker %s: cannot renew leases (%s)", cfg.worker_id, error)
                    continue
                self._note_held(frozenset(held), started)

        task = asyncio.create_task(renew(), name="renewing")
        try:
            yield
        finally:
            done.set()
            await task

    async def _take_over(self, partitions: frozenset[int]) -> None:
        async with self._lock:
            symbols = self.symbols_of(partitions)
            service = self._service(symbols)
            accounts = await service.restore_all()
            self.service = service
            self.owned = partitions
            if self._on_take_over is not None:
                self._on_take_over()
            log.info(
                "worker %s owns partitions %s (%d symbols, %d accounts restored)",
                self.config.worker_id,
                sorted(partitions),
                len(symbols),
                accounts,
            )
        await self._stop_prices()
        if symbols:
            subscription = self._prices.subscribe(symbols)
            self._price_task = asyncio.create_task(self._follow_prices(subscription), name="prices")

    # -- prices --------------------------------------------------------------------------------

    async def _follow_prices(self, subscription: Subscription[MarketEvent]) -> None:
        try:
            async for event in subscription:
                async with self._lock:
                    if not self.holds_leases() or self._queue.partition_of(event.symbol) not in self._held:
                        continue  # perhaps not ours any more; a renewal or a rebuild comes first
                    try:
                        await self.service.on_market(event)
                    except DependencyUnavailable as error:
                        log.warning("price step not persisted (%s); accounts reload from the store", error)
        finally:
            await subscription.aclose()

    async def _stop_prices(self) -> None:
        if self._price_task is not None:
            self._price_task.cancel()
            await asyncio.gather(self._price_task, return_exceptions=True)
            self._price_task = None

    # -- commands ------------------------------------------------------------------------------

    async def _consume(self, stop: asyncio.Event) -> None:
        cfg = self.config
        next_reclaim = 0
        # A batch whose commit failed is retried before anything newer is read, so that commands
        # of one symbol are applied in the order they were queued (a cancel after its place).
        batch: list[Delivery] = []
        last_size = 0  # commands in the batch handled before: more than one means load
        # Committed, and acknowledged with the next read (one round trip for both). A lost
        # acknowledgement means a redelivery, which is a no-op.
        unacked: list[Delivery] = []
        while not stop.is_set():
            partitions = sorted(self.owned)
            if not partitions:
                unacked = await self._acknowledge(unacked)
                await _sleep_or_stop(stop, 100)
                continue
            try:
                if not batch:
                    if self._clock.now_ms() >= next_reclaim:
                        batch = await self._queue.reclaim(cfg.worker_id, partitions, min_idle_ms=cfg.reclaim_idle_ms)
                        next_reclaim = self._clock.now_ms() + cfg.reclaim_idle_ms // 3
                    batch += await self._queue.receive(
                        cfg.worker_id, partitions, max_count=cfg.batch_size, block_ms=cfg.block_ms, ack=unacked
                    )
                    unacked = []
                    loaded = len(batch) > 1 or last_size > 1
                    if batch and loaded and cfg.linger_ms and len(batch) < cfg.batch_size:
                        await asyncio.sleep(cfg.linger_ms / 1000)
                        batch += await self._queue.receive(
                            cfg.worker_id, partitions, max_count=cfg.batch_size - len(batch), block_ms=0
                        )
                applied = await self.apply(batch)
                if applied is None:
                    # Our leases may have lapsed: keep the batch until the next renewal says.
                    await _sleep_or_stop(stop, cfg.rebalance_every_ms)
                    continue
                batch = []
                last_size = len(applied)
                unacked = applied  # only once committed
                self.processed += len(applied)
            except DependencyUnavailable as error:
                log.warning("worker %s: dependency down (%s); retrying", cfg.worker_id, error)
                await _sleep_or_stop(stop, 500)
        await self._acknowledge(unacked)

    async def apply(self, batch: list[Delivery]) -> list[Delivery] | None:
        """Apply the deliveries of the partitions this worker owns and commit their outcome; returns
        those applied (to acknowledge), or None if it cannot be sure it still holds its leases.

        The others (their partitions moved) are left unacknowledged for their new owner to reclaim.
        Raises DependencyUnavailable when the store refused the batch: retry it before reading on.
        """
        async with self._lock:
            # Checked under the lock: a take-over may have given partitions away while we read or
            # waited, and their new owner must be the only one to apply them.
            if not self.holds_leases():
                return None
            owned = [d for d in batch if d.partition in self.owned and d.partition in self._held]
            if not owned:
                return []
            ids = [d.delivery_id for d in owned]
            if self._routed is None or self._routed[0] != ids:
                commands = [d.command for d in owned]
                self._routed = ids, await self._route(commands) if self._route is not None else commands
            await self.service.handle_batch(self._routed[1])
            self._routed = None
            return owned

    async def _acknowledge(self, deliveries: list[Delivery]) -> list[Delivery]:
        """Acknowledge now; what could not be is returned, to go with the next read."""
        if not deliveries:
            return deliveries
        try:
            await self._queue.ack(deliveries)
        except DependencyUnavailable as error:
            log.warning("worker %s: acknowledgement deferred (%s)", self.config.worker_id, error)
            return deliveries
        return []

    # -- sweeper -------------------------------------------------------------------------------

    async def _sweep(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await _sleep_or_stop(stop, self.config.sweep_every_ms)
            try:
                await self.sweep_once()
            except DependencyUnavailable as error:
                log.warning("sweeper skipped a round (%s)", error)

    async def sweep_once(self) -> int:
        """Queue again what was recorded for owned partitions and not yet applied: orders no
        engine has taken in, then recorded commands (cancel, amend, ...) still pending."""
        now = self._clock.now_ms()
        cutoff = now - self.config.sweep_after_ms
        async with self._uow() as uow:
            orders = await uow.orders.list_unaccepted(created_before=cutoff)
            commands = await uow.pending_commands.list_waiting(created_before=cutoff)
        # Something queued again and still waiting is behind a backlog, not lost: one copy is enough.
        self._requeued = {k: t for k, t in self._requeued.items() if t > cutoff}
        # Orders first: a cancel lost with its order must reach the engine after it.
        waiting: list[tuple[str, str, Command]] = [
            (f"order:{o.order_id}", o.symbol, command_from_order(o)) for o in orders
        ]
        waiting += [(f"command:{c.command_id}", c.symbol, c) for c in commands]
        due = [
            (key, command)
            for key, symbol, command in waiting
            if self._queue.partition_of(symbol) in self.owned and key not in self._requeued
        ]
        if not due:
            return 0
        # One pipeline: after a Redis restart this may be every order and command still open.
        await self._queue.enqueue_many([command for _, command in due])
        self._requeued.update((key, now) for key, _ in due)
        log.warning("sweeper queued %d recorded orders and commands again", len(due))
        return len(due)


async def _sleep_or_stop(stop: asyncio.Event, ms: int) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=ms / 1000)
