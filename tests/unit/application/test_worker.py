"""Workers share partitions through leases, take over from a dead one, and re-queue lost orders."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from decimal import Decimal
from typing import Any

import pytest

from tests.unit.application.conftest import World
from tests.waiting import until
from tradesim.adapters.memory.coordination import MemoryPartitionLeases
from tradesim.adapters.memory.messaging import MemoryOrderQueue, MemoryPriceBus
from tradesim.adapters.memory.unit_of_work import MemoryUnitOfWork
from tradesim.application.worker import Router, Worker, WorkerConfig
from tradesim.domain import MatchingEngine, OrderStatus, OrderType, PlaceOrder, Side, Ticker, default_catalog
from tradesim.domain.commands import Command
from tradesim.ports.errors import DependencyUnavailable
from tradesim.ports.messaging import Delivery
from tradesim.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory


def _worker(
    world: World,
    name: str,
    prices: MemoryPriceBus,
    leases: MemoryPartitionLeases,
    *,
    route: Router | None = None,
    reclaim_idle_ms: int = 200,
    linger_ms: int = 0,
    sweep_every_ms: int = 50,
    uow_factory: UnitOfWorkFactory | None = None,
    on_take_over: Callable[[], None] | None = None,
    queue: object = None,
) -> Worker:
    catalog = default_catalog()
    return Worker(
        WorkerConfig(
            worker_id=name,
            lease_ttl_ms=300,
            rebalance_every_ms=50,
            block_ms=20,
            reclaim_idle_ms=reclaim_idle_ms,
            sweep_every_ms=sweep_every_ms,
            sweep_after_ms=100,
            linger_ms=linger_ms,
        ),
        engine_factory=lambda: MatchingEngine(catalog, world.clock.now_ms),
        uow_factory=uow_factory or world.uow,
        queue=queue or world.queue,  # type: ignore[arg-type]
        prices=prices,
        events=world.events,
        leases=leases,
        catalog=catalog,
        clock=world.clock,
        route=route,
        on_take_over=on_take_over,
    )


def _priced(world: World, workers: Sequence[Worker], *symbols: str) -> bool:
    """Each symbol's owner has a price for it: a market order it takes from now on can fill."""
    return all(
        w.service.engine.last_price(s) is not None
        for s in symbols
        for w in workers
        if world.queue.partition_of(s) in w.owned
    )


class ReadsSeen:
    """The world's queue, counting what each of the worker's reads brought."""

    def __init__(self, queue: MemoryOrderQueue) -> None:
        self._queue = queue
        self.reads: list[int] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._queue, name)

    async def receive(self, *args: Any, **kwargs: Any) -> list[Delivery]:
        got = await self._queue.receive(*args, **kwargs)
        self.reads.append(len(got))
        return got


async def _status(world: World, order_id: str) -> OrderStatus | None:
    async with world.uow() as uow:
        order = await uow.orders.get(order_id)
    return None if order is None else order.status


@pytest.fixture
async def running(world: World) -> AsyncIterator[tuple[World, MemoryPriceBus, MemoryPartitionLeases]]:
    """A live-like feed: both symbols tick every 20 ms while the test runs."""
    prices = MemoryPriceBus()

    async def feed() -> None:
        while True:
            await _tick(prices, world)
            await asyncio.sleep(0.02)

    task = asyncio.create_task(feed())
    yield world, prices, MemoryPartitionLeases()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def _place_market(world: World, account_id: str, symbol: str = "BTCUSDT") -> str:
    qty = Decimal("0.010") if symbol == "BTCUSDT" else Decimal("0.10")
    placed = await world.orders.place("user-1", PlaceOrder(account_id, symbol, Side.BUY, OrderType.MARKET, qty))
    return placed.order.order_id


async def _tick(prices: MemoryPriceBus, world: World) -> None:
    ts = world.clock.now_ms()
    await prices.publish(Ticker.of("BTCUSDT", last="30000.0", bid="29999.9", ask="30000.0", ts=ts))
    await prices.publish(Ticker.of("ETHUSDT", last="2000.00", bid="1999.99", ask="2000.00", ts=ts))


async def test_two_workers_split_the_partitions_and_fill_everything(
    running: tuple[World, MemoryPriceBus, MemoryPartitionLeases],
) -> None:
    world, prices, leases = running
    account = await world.accounts.open("user-1", "Main", Decimal("10000"))
    a, b = _worker(world, "a", prices, leases), _worker(world, "b", prices, leases)
    stop = asyncio.Event()
    tasks = [asyncio.create_task(w.run(stop)) for w in (a, b)]
    await until(lambda: a.owned | b.owned == frozenset(range(world.queue.partitions)) and a.owned)
    assert not a.owned & b.owned
    await until(lambda: _priced(world, (a, b), "BTCUSDT", "ETHUSDT"))
    orders = [await _place_market(world, account.account_id, s) for s in ("BTCUSDT", "ETHUSDT")]
    for order_id in orders:
        await until(lambda oid=order_id: _status_is(world, oid, OrderStatus.FILLED))
    stop.set()
    await asyncio.gather(*tasks)


async def test_a_dead_workers_partitions_and_pending_commands_move_to_the_survivor(
    running: tuple[World, MemoryPriceBus, MemoryPartitionLeases],
) -> None:
    world, prices, leases = running
    account = await world.accounts.open("user-1", "Main", Decimal("10000"))
    a, b = _worker(world, "a", prices, leases), _worker(world, "b", prices, leases)
    stop_a, stop_b = asyncio.Event(), asyncio.Event()
    task_a = asyncio.create_task(a.run(stop_a))
    task_b = asyncio.create_task(b.run(stop_b))
    await until(lambda: bool(a.owned) and bool(b.owned))
    # a dies without a goodbye: its task is killed, its leases simply stop being renewed
    task_a.cancel()
    await asyncio.gather(task_a, return_exceptions=True)
    await until(lambda: b.owned == frozenset(range(world.queue.partitions)))
    await until(lambda: _priced(world, (b,), "BTCUSDT"))
    order_id = await _place_market(world, account.account_id)
    await until(lambda: _status_is(world, order_id, OrderStatus.FILLED))
    stop_b.set()
    await task_b


async def test_the_sweeper_queues_again_an_order_the_queue_lost(
    running: tuple[World, MemoryPriceBus, MemoryPartitionLeases],
) -> None:
    world, prices, leases = running
    account = await world.accounts.open("user-1", "Main", Decimal("10000"))
    order_id = await _place_market(world, account.account_id)
    lost = await world.queue.receive("nobody", list(range(world.queue.partitions)), block_ms=10)
    await world.queue.ack(lost)  # the entry is gone, as after a Redis restart
    assert world.queue.pending() == 0
    worker = _worker(world, "a", prices, leases)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    await until(lambda: bool(worker.owned))
    await until(lambda: _priced(world, (worker,), "BTCUSDT"))
    world.clock.advance(1_000)  # the order is now older than sweep_after_ms
    await until(lambda: _status_is(world, order_id, OrderStatus.FILLED))
    stop.set()
    await task
    async with world.uow() as uow:
        assert len(await uow.executions.list_by_order(order_id)) == 1


async def _status_is(world: World, order_id: str, status: OrderStatus) -> bool:
    return await _status(world, order_id) is status


async def test_a_worker_whose_loop_breaks_stops_with_the_error(
    running: tuple[World, MemoryPriceBus, MemoryPartitionLeases],
) -> None:
    world, prices, _ = running

    class BrokenLeases(MemoryPartitionLeases):
        async def heartbeat(self, worker_id: str, ttl_ms: int) -> list[str]:
            raise ValueError("a bug in the lease store")

    worker = _worker(world, "a", prices, BrokenLeases())
    with pytest.raises(ValueError, match="a bug in the lease store"):
        await asyncio.wait_for(worker.run(asyncio.Event()), 3)


async def test_a_batch_the_database_refused_is_applied_again_before_anything_queued_after_it(
    running: tuple[World, MemoryPriceBus, MemoryPartitionLeases],
) -> None:
    """A cancel queued behind its order's place must not overtake it while the database is down."""
    world, prices, leases = running
    account = await world.accounts.open("user-1", "Main", Decimal("10000"))
    placed = await world.orders.place(
        "user-1",
        PlaceOrder(account.account_id, "BTCUSDT", Side.BUY, OrderType.LIMIT, Decimal("0.010"), price=Decimal("25000")),
    )
    refusing = True
    refused = 0

    class WorkerCommitsRefused(MemoryUnitOfWork):
        """The worker's commits fail; the api's (recording the cancel) still go through."""

        async def commit(self) -> None:
            nonlocal refused
            if refusing:
                refused += 1
                raise DependencyUnavailable("the database refused the worker's commit")
            await super().commit()

    # reclaim far away: the refused batch must come back by itself, not through a reclaim
    worker = _worker(
        world, "a", prices, leases, reclaim_idle_ms=60_000, uow_factory=lambda: WorkerCommitsRefused(world.database)
    )
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    await until(lambda: refused)  # the worker has tried the place and been refused
    await world.orders.cancel("user-1", placed.order.order_id)
    after_cancel = refused
    # The worker tried again with the cancel queued behind the place: it did not apply the cancel alone.
    await until(lambda: refused > after_cancel + 1)
    assert await _status(world, placed.order.order_id) is OrderStatus.NEW
    refusing = False
    await until(lambda: _status_is(world, placed.order.order_id, OrderStatus.CANCELLED))
    stop.set()
    await task
    assert world.queue.pending() == 0


async def test_commands_the_router_takes_never_reach_the_live_engine(
    running: tuple[World, MemoryPriceBus, MemoryPartitionLeases],
) -> None:
    world, prices, leases = running
    live = await world.accounts.open("user-1", "Main", Decimal("10000"))
    elsewhere = await world.accounts.open("user-1", "Replay", Decimal("10000"))
    diverted: list[Command] = []

    async def route(commands: Sequence[Command]) -> list[Command]:
        diverted.extend(c for c in commands if getattr(c, "account_id", "") == elsewhere.account_id)
        return [c for c in commands if getattr(c, "account_id", "") != elsewhere.account_id]

    worker = _worker(world, "a", prices, leases, route=route)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    await until(lambda: bool(worker.owned))
    await until(lambda: _priced(world, (worker,), "BTCUSDT"))
    away = await _place_market(world, elsewhere.account_id)
    here = await _place_market(world, live.account_id)
    await until(lambda: _status_is(world, here, OrderStatus.FILLED))
    stop.set()
    await task
    assert [getattr(c, "order_id", None) for c in diverted] == [away]
    assert await _status(world, away) is OrderStatus.NEW  # its session, not the live engine, fills it


async def test_the_sweeper_queues_a_waiting_order_once_per_round_of_patience(
    running: tuple[World, MemoryPriceBus, MemoryPartitionLeases],
) -> None:
    """A backlog older than the bound must not grow by a copy of itself every round."""
    world, prices, leases = running
    account = await world.accounts.open("user-1", "Main", Decimal("10000"))
    await _place_market(world, account.account_id)
    worker = _worker(world, "a", prices, leases)
    worker.owned = frozenset(range(world.queue.partitions))
    world.clock.advance(1_000)
    assert await worker.sweep_once() == 1
    assert await worker.sweep_once() == 0
    world.clock.advance(1_000)  # still waiting a whole bound later: that copy was lost too
    assert await worker.sweep_once() == 1
    assert world.queue.pending() == 3


async def test_partitions_are_given_away_only_after_the_batch_in_flight_on_them(
    running: tuple[World, MemoryPriceBus, MemoryPartitionLeases],
) -> None:
    """The next owner rebuilds from the store: it must not start before the last owner's commit."""
    world, prices, leases = running
    a, b = _worker(world, "a", prices, leases), _worker(world, "b", prices, leases)
    await a.rebalance()
    assert a.owned == frozenset(range(world.queue.partitions))
    await leases.heartbeat("b", 300)  # b joins: half of a's partitions are now b's share
    async with a._lock:  # a is committing a batch
        handing_over = asyncio.create_task(a.rebalance())
        await until(lambda: a._lock._waiters)  # the hand-over waits for the batch's lock
        await b.rebalance()
        assert not b.owned
    await handing_over
    await b.rebalance()
    assert a.owned
    assert b.owned
    assert a.owned | b.owned == frozenset(range(world.queue.partitions))
    assert not a.owned & b.owned


async def test_the_take_over_hook_runs_after_each_take_over_with_the_rebuilt_engine_in_place(
    running: tuple[World, MemoryPriceBus, MemoryPartitionLeases],
) -> None:
    """The worker command settles its heap there, before any command reaches the new engine."""
    world, prices, leases = running
    seen: list[tuple[frozenset[int], object]] = []
    worker = _worker(world, "a", prices, leases, on_take_over=lambda: seen.append((worker.owned, worker.service)))
    await worker.rebalance()
    await worker.rebalance()  # nothing changed: no take-over
    assert seen == [(frozenset(range(world.queue.partitions)), worker.service)]
    await leases.heartbeat("b", 300)  # b joins: a keeps half
    await worker.rebalance()
    assert len(seen) == 2
    assert seen[1] == (worker.owned, worker.service)
    assert 0 < len(worker.owned) < world.queue.partitions


async def test_under_load_commands_arriving_while_the_worker_lingers_share_one_transaction(
    running: tuple[World, MemoryPriceBus, MemoryPartitionLeases],
) -> None:
    world, prices, leases = running
    account = await world.accounts.open("user-1", "Main", Decimal("10000"))
    opened = 0

    def counting() -> UnitOfWork:
        nonlocal opened
        opened += 1
        return world.uow()

    queue = ReadsSeen(world.queue)
    # A linger far longer than the test needs to place an order once it sees the burst read.
    worker = _worker(
        world, "a", prices, leases, linger_ms=2_000, sweep_every_ms=60_000, uow_factory=counting, queue=queue
    )
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    await until(lambda: bool(worker.owned))
    await until(lambda: queue.reads)  # the worker is waiting for commands
    before = opened
    resting = PlaceOrder(account.account_id, "BTCUSDT", Side.BUY, OrderType.LIMIT, Decimal("0.010"), Decimal("25000.0"))
    # Two at once: recorded and queued together, so the worker reads both in one go (load).
    placed = await asyncio.gather(*(world.orders.place("user-1", resting) for _ in range(2)))
    burst = [p.order.order_id for p in placed]
    await until(lambda: 2 in queue.reads)  # read together: the worker lingers now
    late = (await world.orders.place("user-1", resting)).order.order_id
    await until(lambda: _accepted(world, *burst, late))
    assert opened - before == 1, "the burst and the order placed during the linger were taken in by one unit of work"
    stop.set()
    await task


async def test_a_lone_order_on_an_idle_worker_does_not_wait_for_the_linger(
    running: tuple[World, MemoryPriceBus, MemoryPartitionLeases],
) -> None:
    world, prices, leases = running
    account = await world.accounts.open("user-1", "Main", Decimal("10000"))
    worker = _worker(world, "a", prices, leases, linger_ms=100_000, sweep_every_ms=60_000)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    await until(lambda: bool(worker.owned))
    resting = PlaceOrder(account.account_id, "BTCUSDT", Side.BUY, OrderType.LIMIT, Decimal("0.010"), Decimal("25000.0"))
    order_id = (await world.orders.place("user-1", resting)).order.order_id
    await until(lambda: _accepted(world, order_id))  # within 3 s, where the linger is 100 s
    stop.set()
    await task


async def _accepted(world: World, *order_ids: str) -> bool:
    async with world.uow() as uow:
        orders = [await uow.orders.get(order_id) for order_id in order_ids]
    return all(o is not None and o.accepted_time for o in orders)
