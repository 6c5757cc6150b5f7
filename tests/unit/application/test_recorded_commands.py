"""Cancel, amend, trading-stop and leverage are recorded before they are queued, applied once,
and their record goes in the transaction that commits their outcome."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.unit.application.conftest import World
from tradesim.adapters.memory.coordination import MemoryPartitionLeases
from tradesim.adapters.memory.messaging import MemoryOrderQueue, MemoryPriceBus
from tradesim.adapters.memory.unit_of_work import MemoryUnitOfWork
from tradesim.application.orders import OrderService
from tradesim.application.worker import Worker, WorkerConfig
from tradesim.domain import (
    MatchingEngine,
    OrderCancelled,
    OrderStatus,
    OrderType,
    PlaceOrder,
    Side,
    Ticker,
    default_catalog,
)
from tradesim.domain.commands import CancelOrder, Command, RecordedCommand, SetLeverage
from tradesim.domain.events import CommandRejected
from tradesim.ports.errors import DependencyUnavailable


class RecordCheckingQueue(MemoryOrderQueue):
    """Notes, for each command queued, whether its record was already committed."""

    def __init__(self, world: World) -> None:
        super().__init__(partitions=2)
        self._world = world
        self.recorded_first: list[bool] = []

    async def enqueue(self, command: Command) -> str:
        async with self._world.uow() as uow:
            waiting = await uow.pending_commands.list_waiting(self._world.clock.now_ms() + 1)
        self.recorded_first.append(command in waiting)
        return await super().enqueue(command)


class DownQueue(MemoryOrderQueue):
    async def enqueue(self, command: Command) -> str:
        raise DependencyUnavailable("the order queue is unreachable")


class CommitsRefused(MemoryUnitOfWork):
    """A worker's transaction the database refuses at commit."""

    async def commit(self) -> None:
        raise DependencyUnavailable("the database refused the commit")


def _orders(world: World, queue: MemoryOrderQueue) -> OrderService:
    counter = iter(range(1, 100))
    return OrderService(world.uow, queue, default_catalog(), world.clock, lambda: f"cmd-{next(counter)}")


async def _waiting(world: World) -> list[RecordedCommand]:
    async with world.uow() as uow:
        return await uow.pending_commands.list_waiting(world.clock.now_ms() + 1)


async def _resting_order(world: World) -> str:
    """A Limit Buy far below the price, taken in by the world's engine."""
    account = await world.accounts.open("user-1", "Main", Decimal("10000"))
    await world.engine_service.on_market(
        Ticker.of("BTCUSDT", last="30000.0", bid="29999.9", ask="30000.0", ts=world.clock.now_ms())
    )
    placed = await world.orders.place(
        "user-1",
        PlaceOrder(account.account_id, "BTCUSDT", Side.BUY, OrderType.LIMIT, Decimal("0.010"), Decimal("20000.0")),
    )
    [delivery] = await world.queue.receive("w", [0, 1], block_ms=10)
    await world.engine_service.handle(delivery.command)
    await world.queue.ack([delivery])
    return placed.order.order_id


async def _queued_commands(world: World) -> list[Command]:
    deliveries = await world.queue.receive("w", [0, 1], block_ms=10)
    await world.queue.ack(deliveries)
    return [d.command for d in deliveries]


async def _status(world: World, order_id: str) -> OrderStatus:
    async with world.uow() as uow:
        order = await uow.orders.get(order_id)
    assert order is not None
    return order.status


# -- the api -------------------------------------------------------------------------------------


async def test_a_cancel_is_recorded_with_its_id_before_it_is_queued(world: World) -> None:
    order_id = await _resting_order(world)
    queue = RecordCheckingQueue(world)
    await _orders(world, queue).cancel("user-1", order_id)
    [recorded] = await _waiting(world)
    assert recorded == CancelOrder(recorded.account_id, order_id, "BTCUSDT", command_id="cmd-1")
    assert queue.recorded_first == [True]
    [queued] = [d.command for d in await queue.receive("w", [0, 1], block_ms=10)]
    assert queued == recorded


async def test_trading_stop_and_leverage_are_recorded_too(world: World) -> None:
    account = await world.accounts.open("user-1", "Main", Decimal("10000"))
    queue = RecordCheckingQueue(world)
    orders = _orders(world, queue)
    await orders.set_leverage("user-1", SetLeverage(account.account_id, "BTCUSDT", Decimal("5")))
    assert [c.command_id for c in await _waiting(world)] == ["cmd-1"]
    assert queue.recorded_first == [True]


async def test_a_command_is_still_accepted_and_recorded_while_the_queue_is_down(world: World) -> None:
    """The record is the promise, as for an order: the sweeper queues it once Redis answers."""
    order_id = await _resting_order(world)
    await _orders(world, DownQueue(partitions=2)).cancel("user-1", order_id)
    assert [(c.command_id, getattr(c, "order_id", "")) for c in await _waiting(world)] == [("cmd-1", order_id)]


async def test_a_command_is_refused_and_neither_recorded_nor_queued_while_the_database_is_down(
    world: World,
) -> None:
    order_id = await _resting_order(world)
    world.database.available = False
    with pytest.raises(DependencyUnavailable):
        await world.orders.cancel("user-1", order_id)
    world.database.available = True
    assert await _waiting(world) == []
    assert world.queue.pending() == 0


async def test_a_replay_accounts_command_is_queued_unrecorded(world: World) -> None:
    """Its session's inbox keeps nothing on disk anyway; a queue outage is the caller's 503."""
    replay = await world.accounts.open("user-1", "Replay", Decimal("10000"), kind="replay")
    command = SetLeverage(replay.account_id, "BTCUSDT", Decimal("5"))
    await world.orders.set_leverage("user-1", command)
    assert await _waiting(world) == []
    assert await _queued_commands(world) == [command]
    with pytest.raises(DependencyUnavailable):
        await _orders(world, DownQueue(partitions=2)).set_leverage("user-1", command)


# -- the worker ----------------------------------------------------------------------------------


async def test_the_record_goes_in_the_transaction_that_commits_the_outcome(world: World) -> None:
    order_id = await _resting_order(world)
    await world.orders.cancel("user-1", order_id)
    [cancel] = await _queued_commands(world)
    refused = type(world.engine_service)(
        MatchingEngine(default_catalog(), world.clock.now_ms), lambda: CommitsRefused(world.database), world.events
    )
    with pytest.raises(DependencyUnavailable):
        await refused.handle_batch([cancel])
    assert await _status(world, order_id) is OrderStatus.NEW
    assert await _waiting(world) == [cancel], "a rolled-back outcome keeps its record"
    events = await world.engine_service.handle_batch([cancel])
    assert [type(e) for e in events] == [OrderCancelled]
    assert await _status(world, order_id) is OrderStatus.CANCELLED
    assert await _waiting(world) == []


async def test_a_command_whose_record_is_gone_is_skipped(world: World) -> None:
    """A redelivery (crash between commit and ack, reclaim) must not apply it again: an amend
    applied twice, or a cancel answered with a refusal, would be wrong."""
    order_id = await _resting_order(world)
    await world.orders.cancel("user-1", order_id)
    [cancel] = await _queued_commands(world)
    assert [type(e) for e in await world.engine_service.handle_batch([cancel])] == [OrderCancelled]
    assert await world.engine_service.handle_batch([cancel]) == []


async def test_the_sweepers_copy_beside_the_original_in_one_batch_is_applied_once(world: World) -> None:
    order_id = await _resting_order(world)
    await world.orders.cancel("user-1", order_id)
    [cancel] = await _queued_commands(world)
    events = await world.engine_service.handle_batch([cancel, cancel])
    assert [type(e) for e in events] == [OrderCancelled]
    assert not any(isinstance(e, CommandRejected) for e in events)


async def test_a_recorded_command_that_changes_nothing_still_has_its_record_removed(world: World) -> None:
    account = await world.accounts.open("user-1", "Main", Decimal("10000"))
    command = SetLeverage(account.account_id, "BTCUSDT", Decimal("5"), command_id="by-hand")
    async with world.uow() as uow:
        await uow.pending_commands.add(command, world.clock.now_ms())
        await uow.commit()
    await world.engine_service.handle_batch([command])
    assert await _waiting(world) == []


# -- the sweeper ---------------------------------------------------------------------------------


async def test_the_sweeper_queues_a_pending_command_again_once_it_is_old_enough(world: World) -> None:
    order_id = await _resting_order(world)
    await _orders(world, DownQueue(partitions=2)).cancel("user-1", order_id)  # recorded, never queued
    catalog = default_catalog()
    worker = Worker(
        WorkerConfig(worker_id="a", sweep_after_ms=100),
        engine_factory=lambda: MatchingEngine(catalog, world.clock.now_ms),
        uow_factory=world.uow,
        queue=world.queue,
        prices=MemoryPriceBus(),
        events=world.events,
        leases=MemoryPartitionLeases(),
        catalog=catalog,
        clock=world.clock,
    )
    worker.owned = frozenset(range(world.queue.partitions))
    assert await worker.sweep_once() == 0  # too recent: it may still be on its way
    world.clock.advance(1_000)
    assert await worker.sweep_once() == 1
    assert await worker.sweep_once() == 0  # one copy per round of patience
    [swept] = await _queued_commands(world)
    assert swept == CancelOrder(swept.account_id, order_id, "BTCUSDT", command_id="cmd-1")  # type: ignore[union-attr]
    await world.engine_service.handle_batch([swept])
    assert await _status(world, order_id) is OrderStatus.CANCELLED
    world.clock.advance(1_000)
    assert await worker.sweep_once() == 0  # applied: nothing left to sweep


async def test_a_batch_with_a_recorded_command_runs_in_a_transaction_where_others_need_none(world: World) -> None:
    """Where outcomes are one statement (PostgreSQL), batches of placements use units of work
    without a transaction; a recorded command's record removal must commit with its outcome."""
    order_id = await _resting_order(world)
    used: list[str] = []

    def transactional() -> MemoryUnitOfWork:
        used.append("transaction")
        return world.uow()

    def outcome() -> MemoryUnitOfWork:
        used.append("outcome")
        return world.uow()

    service = type(world.engine_service)(
        MatchingEngine(default_catalog(), world.clock.now_ms), transactional, world.events, None, outcome
    )
    await service.on_market(Ticker.of("BTCUSDT", last="30000.0", bid="29999.9", ask="30000.0", ts=world.clock.now_ms()))
    async with world.uow() as uow:
        resting = await uow.orders.get(order_id)
    assert resting is not None
    buy = PlaceOrder(resting.account_id, "BTCUSDT", Side.BUY, OrderType.MARKET, Decimal("0.001"))
    await world.orders.place("user-1", buy)
    await service.handle_batch(await _queued_commands(world))
    assert used == ["outcome"]
    await world.orders.cancel("user-1", order_id)
    await service.handle_batch(await _queued_commands(world))
    assert used == ["outcome", "transaction"]
    assert await _status(world, order_id) is OrderStatus.CANCELLED
    assert await _waiting(world) == []
