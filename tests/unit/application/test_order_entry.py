"""Orders of concurrent requests are recorded and queued together; each trader still gets their own."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Sequence
from decimal import Decimal

import pytest

from tests.unit.application.conftest import World
from tests.unit.application.test_order_service import _limit
from tradesim.adapters.memory.messaging import MemoryOrderQueue
from tradesim.adapters.memory.unit_of_work import MemoryUnitOfWork
from tradesim.application.orders import OrderService
from tradesim.domain import OrderStatus, default_catalog
from tradesim.domain.commands import Command
from tradesim.ports.errors import DependencyUnavailable


class CountingQueue(MemoryOrderQueue):
    def __init__(self) -> None:
        super().__init__(partitions=2)
        self.calls: list[int] = []

    async def enqueue_many(self, commands: Sequence[Command]) -> list[str]:
        self.calls.append(len(commands))
        return await super().enqueue_many(commands)


class Entry:
    """An order service whose units of work are counted, and that a test can make fail."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.queue = CountingQueue()
        self.opened = 0
        self.down = False
        ids = itertools.count(1)
        self.orders = OrderService(
            world.uow,
            self.queue,
            default_catalog(),
            world.clock,
            lambda: f"ord-{next(ids)}",
            entry_uow_factory=self.uow,
        )

    def uow(self) -> MemoryUnitOfWork:
        self.opened += 1
        if self.down:
            raise DependencyUnavailable("the database is unreachable")
        return self.world.uow()


@pytest.fixture
async def entry(world: World) -> Entry:
    return Entry(world)


async def _account(entry: Entry) -> str:
    account = await entry.world.accounts.open("user-1", "Main", Decimal("100000"))
    await entry.orders.place("user-1", _limit(account.account_id))  # its owner is remembered from now on
    await entry.queue.ack(await entry.queue.receive("w", list(range(entry.queue.partitions)), block_ms=0))
    entry.opened, entry.queue.calls = 0, []
    return account.account_id


async def test_orders_placed_at_once_are_recorded_in_one_write_and_queued_in_one_call(entry: Entry) -> None:
    account_id = await _account(entry)
    placed = await asyncio.gather(*(entry.orders.place("user-1", _limit(account_id)) for _ in range(5)))
    assert all(p.created for p in placed)
    assert len({p.order.order_id for p in placed}) == 5, "each request gets its own order"
    # All five arrived before the write began (the memory store never suspends): one write.
    assert entry.opened == 1
    assert entry.queue.calls == [5]
    async with entry.world.uow() as uow:
        for p in placed:
            assert (await uow.orders.get(p.order.order_id)) == p.order
    queued = await entry.queue.receive("w", list(range(entry.queue.partitions)), max_count=10, block_ms=0)
    assert [d.command.order_id for d in queued] == [p.order.order_id for p in placed]  # type: ignore[attr-defined]


async def test_a_lone_order_is_written_alone_at_once(entry: Entry) -> None:
    account_id = await _account(entry)
    for _ in range(3):
        assert (await entry.orders.place("user-1", _limit(account_id))).created
    assert entry.opened == 3
    assert entry.queue.calls == [1, 1, 1]


async def test_the_same_order_link_id_in_one_batch_gives_both_requests_the_first_order(entry: Entry) -> None:
    account_id = await _account(entry)
    first, *twins = await asyncio.gather(
        entry.orders.place("user-1", _limit(account_id)),
        *(entry.orders.place("user-1", _limit(account_id, order_link_id="bot-7")) for _ in range(2)),
    )
    assert first.created
    assert [t.created for t in twins] == [True, False]
    assert twins[1].order == twins[0].order
    async with entry.world.uow() as uow:
        assert len([o for o in await uow.orders.list_by_account(account_id) if o.order_link_id == "bot-7"]) == 1


async def test_a_store_outage_refuses_every_order_of_the_batch_and_records_none(entry: Entry) -> None:
    account_id = await _account(entry)
    entry.down = True
    outcomes = await asyncio.gather(
        *(entry.orders.place("user-1", _limit(account_id)) for _ in range(3)), return_exceptions=True
    )
    assert all(isinstance(o, DependencyUnavailable) for o in outcomes)
    assert entry.queue.calls == []
    entry.down = False
    async with entry.world.uow() as uow:
        assert [o.status for o in await uow.orders.list_by_account(account_id)] == [OrderStatus.NEW]  # the first only
    assert (await entry.orders.place("user-1", _limit(account_id))).created, "the next order is taken again"
