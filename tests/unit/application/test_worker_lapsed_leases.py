"""A worker whose leases lapsed while it stalled must not write over the new owner's positions.

The crash test saw positions larger than their fills: a worker busy rebuilding (hundreds of
accounts on a loaded machine) outlasted its leases, the other worker took its partitions and
rebuilt them from the store, and both then applied orders of the same accounts. Positions are
written as each engine holds them, so the stale engine's writes and the new owner's overwrote
each other (executions, inserted once by id, stayed right). Here the same sequence runs step by
step, the leases lapsing by the test's clock.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable, Sequence
from decimal import Decimal

import pytest

from tests.unit.application.conftest import World
from tests.waiting import until
from tradesim.adapters.memory.coordination import MemoryPartitionLeases
from tradesim.adapters.memory.messaging import MemoryPriceBus
from tradesim.adapters.memory.unit_of_work import MemoryUnitOfWork
from tradesim.application.worker import LeasesUncertain, Router, Worker, WorkerConfig
from tradesim.domain import MatchingEngine, OrderType, PlaceOrder, Side, Ticker, default_catalog
from tradesim.domain.commands import Command
from tradesim.domain.enums import OrderStatus
from tradesim.ports.messaging import Delivery

TTL_MS = 300
QTY = Decimal("0.010")


def _worker(world: World, name: str, leases: MemoryPartitionLeases, route: Router | None = None) -> Worker:
    catalog = default_catalog()
    return Worker(
        WorkerConfig(worker_id=name, lease_ttl_ms=TTL_MS),
        engine_factory=lambda: MatchingEngine(catalog, world.clock.now_ms),
        uow_factory=world.uow,
        queue=world.queue,
        prices=MemoryPriceBus(),
        events=world.events,
        leases=leases,
        catalog=catalog,
        clock=world.clock,
        route=route,
    )


async def _priced(world: World, worker: Worker) -> None:
    ts = world.clock.now_ms()
    await worker.service.on_market(Ticker.of("BTCUSDT", last="30000.0", bid="29999.9", ask="30000.0", ts=ts))


async def _place(world: World, account_id: str, side: Side) -> str:
    placed = await world.orders.place("user-1", PlaceOrder(account_id, "BTCUSDT", side, OrderType.MARKET, QTY))
    return placed.order.order_id


async def _apply(world: World, worker: Worker, deliveries: list[Delivery]) -> int:
    """What the worker's loop does with a batch it read: apply, then acknowledge what it applied."""
    applied = await worker.apply(deliveries)
    assert applied is not None, f"{worker.config.worker_id} is not sure of its leases"
    await world.queue.ack(applied)
    return len(applied)


async def _audit(world: World, account_id: str) -> tuple[Decimal, Decimal]:
    """The account's BTCUSDT position, signed, and the signed sum of its fills."""
    async with world.uow() as uow:
        executions = await uow.executions.list_by_account(account_id, limit=1_000)
        positions = await uow.positions.list_by_account(account_id)
    fills = sum((e.exec_qty if e.side is Side.BUY else -e.exec_qty for e in executions), Decimal(0))
    position = next(p for p in positions if p.symbol == "BTCUSDT")
    return (position.size if position.side is Side.BUY else -position.size), fills


async def test_a_stalled_worker_leaves_its_lapsed_partitions_to_the_new_owner(world: World) -> None:
    leases = MemoryPartitionLeases(world.clock.now_ms)
    partitions = list(range(world.queue.partitions))
    account = (await world.accounts.open("user-1", "Main", Decimal("10000"))).account_id
    a, b = _worker(world, "a", leases), _worker(world, "b", leases)

    await a.rebalance()
    assert a.owned == frozenset(partitions)
    await _priced(world, a)
    await _place(world, account, Side.BUY)
    assert await _apply(world, a, await world.queue.receive("a", partitions, block_ms=0)) == 1

    # a stalls past its leases (its rebalance stuck, say); b takes everything over from the store
    world.clock.advance(TTL_MS + 1)
    await b.rebalance()
    assert b.owned == frozenset(partitions)
    await _priced(world, b)

    sell = await _place(world, account, Side.SELL)
    in_hand = await world.queue.receive("a", partitions, block_ms=0)  # a still believes it owns them
    assert [d.command.order_id for d in in_hand] == [sell]  # type: ignore[attr-defined]
    stale = await a.apply(in_hand)
    await _place(world, account, Side.BUY)
    await _apply(world, b, await world.queue.receive("b", partitions, block_ms=0))
    # what a held comes back to its partitions' owner
    await _apply(world, b, await world.queue.reclaim("b", partitions, min_idle_ms=0))

    position, fills = await _audit(world, account)
    assert fills == QTY  # bought twice, sold once
    assert position == fills
    assert stale is None  # a could not be sure of its leases, so it wrote nothing
    async with world.uow() as uow:
        assert (await uow.orders.get(sell)).status is OrderStatus.FILLED  # type: ignore[union-attr]


async def test_a_worker_whose_lease_lapsed_rebuilds_even_when_it_takes_the_lease_again(world: World) -> None:
    """Another worker may have owned the partition meanwhile: the engine's state of it is stale."""
    leases = MemoryPartitionLeases(world.clock.now_ms)
    partitions = frozenset(range(world.queue.partitions))
    account = (await world.accounts.open("user-1", "Main", Decimal("10000"))).account_id
    a, b = _worker(world, "a", leases), _worker(world, "b", leases)
    await a.rebalance()
    await _priced(world, a)
    await _place(world, account, Side.BUY)
    assert await _apply(world, a, await world.queue.receive("a", sorted(partitions), block_ms=0)) == 1

    world.clock.advance(TTL_MS + 1)
    await b.rebalance()  # b owns everything while a stalls, fills an order, then goes away
    await _priced(world, b)
    await _place(world, account, Side.BUY)
    assert await _apply(world, b, await world.queue.receive("b", sorted(partitions), block_ms=0)) == 1
    await leases.release("b", partitions)
    await leases.leave("b")

    await a.rebalance()  # a takes its leases again, and with them the store's state
    assert a.owned == partitions
    await _priced(world, a)
    await _place(world, account, Side.SELL)
    assert await _apply(world, a, await world.queue.receive("a", sorted(partitions), block_ms=0)) == 1
    position, fills = await _audit(world, account)
    assert fills == QTY  # bought twice, sold once
    assert position == fills


async def test_a_worker_that_stalls_mid_batch_past_its_leases_writes_nothing(world: World) -> None:
    """The check before a batch is not enough: the batch's own work may outlast the leases."""
    leases = MemoryPartitionLeases(world.clock.now_ms)
    partitions = list(range(world.queue.partitions))
    account = (await world.accounts.open("user-1", "Main", Decimal("10000"))).account_id

    async def stalling(commands: Sequence[Command]) -> list[Command]:
        world.clock.advance(TTL_MS)  # after the check in `apply`, before anything is written
        return list(commands)

    a = _worker(world, "a", leases, route=stalling)
    await a.rebalance()
    await _priced(world, a)
    order_id = await _place(world, account, Side.BUY)
    with pytest.raises(LeasesUncertain):
        await a.apply(await world.queue.receive("a", partitions, block_ms=0))
    async with world.uow() as uow:
        assert await uow.executions.list_by_account(account) == []
        order = await uow.orders.get(order_id)
    assert order is not None
    assert (order.status, order.accepted_time) == (OrderStatus.NEW, 0)  # for the next owner to take in


class StubbornLeases(MemoryPartitionLeases):
    """Once armed, a renewal made during a take-over waits for the test and swallows a
    cancellation meanwhile, as the Redis client was seen to do."""

    def __init__(self, world: World) -> None:
        super().__init__(world.clock.now_ms)
        self.armed = False
        self.inside = asyncio.Event()
        self.answer = asyncio.Event()

    async def renew(self, worker_id: str, partitions: Iterable[int], ttl_ms: int) -> set[int]:
        task = asyncio.current_task()
        if self.armed and task is not None and task.get_name() == "renewing":
            self.inside.set()
            while not self.answer.is_set():
                with contextlib.suppress(asyncio.CancelledError):
                    await self.answer.wait()
        return await super().renew(worker_id, partitions, ttl_ms)


class GatedUnitOfWork(MemoryUnitOfWork):
    """Holds a take-over's rebuild until the test opens the gate."""

    gate = asyncio.Event()

    async def __aenter__(self) -> GatedUnitOfWork:
        await self.gate.wait()
        await super().__aenter__()
        return self


async def test_a_take_over_hands_its_surplus_over_even_if_a_renewal_ignores_cancellation(world: World) -> None:
    leases = StubbornLeases(world)
    gate = GatedUnitOfWork.gate = asyncio.Event()
    gate.set()
    catalog = default_catalog()
    a = Worker(
        WorkerConfig(worker_id="a", lease_ttl_ms=TTL_MS, rebalance_every_ms=1),
        engine_factory=lambda: MatchingEngine(catalog, world.clock.now_ms),
        uow_factory=lambda: GatedUnitOfWork(world.database),
        queue=world.queue,
        prices=MemoryPriceBus(),
        events=world.events,
        leases=leases,
        catalog=catalog,
        clock=world.clock,
    )
    await a.rebalance()
    assert a.owned == frozenset(range(world.queue.partitions))
    await leases.heartbeat("b", TTL_MS)  # a second worker: a's share halves

    gate.clear()
    leases.armed = True
    handing_over = asyncio.create_task(a.rebalance())
    await leases.inside.wait()  # the renewal during the rebuild is waiting on the lease store
    gate.set()
    await until(lambda: a.owned == frozenset({0}), what="the rebuild to end")
    for _ in range(10):  # (and the take-over to stop the renewal, which is still waiting)
        await asyncio.sleep(0)
    leases.answer.set()
    await until(handing_over.done, what="the take-over to end")
    await handing_over
    assert a.owned == frozenset({0})
    assert await leases.acquire("b", 1, TTL_MS)  # released to the worker it belongs to
