"""Order entry as the api does it: checked, recorded as New, queued; nothing matched here."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.unit.application.conftest import World
from tradesim.adapters.memory.messaging import MemoryOrderQueue
from tradesim.application.orders import OrderService
from tradesim.domain import OrderStatus, OrderType, PlaceOrder, Side, TriggerDirection, default_catalog
from tradesim.domain.commands import Command
from tradesim.domain.errors import NotFound, OrderNotOpen, PriceOffTick, QtyOffStep
from tradesim.ports.errors import DependencyUnavailable


def _limit(account_id: str, **changes: object) -> PlaceOrder:
    fields: dict[str, object] = {
        "account_id": account_id,
        "symbol": "BTCUSDT",
        "side": Side.BUY,
        "order_type": OrderType.LIMIT,
        "qty": Decimal("0.010"),
        "price": Decimal("29000.0"),
    }
    fields.update(changes)
    return PlaceOrder(**fields)  # type: ignore[arg-type]


async def test_open_account_funds_it_through_the_ledger(world: World) -> None:
    account = await world.accounts.open("user-1", "Main", Decimal("2500"))
    async with world.uow() as uow:
        assert await uow.balances.get(account.account_id) == {"USDT": Decimal("2500")}
        assert await uow.ledger.total(account.account_id, "USDT") == Decimal("2500")


async def test_place_records_new_order_and_queues_it(world: World) -> None:
    account = await world.accounts.open("user-1", "Main")
    placed = await world.orders.place("user-1", _limit(account.account_id))
    assert placed.created
    assert placed.order.status is OrderStatus.NEW
    assert placed.order.accepted_time == 0
    async with world.uow() as uow:
        assert await uow.orders.get(placed.order.order_id) == placed.order
    deliveries = await world.queue.receive("w", range(world.queue.partitions), block_ms=10)  # type: ignore[arg-type]
    assert [d.command.order_id for d in deliveries] == [placed.order.order_id]  # type: ignore[union-attr]


async def test_conditional_order_is_recorded_untriggered(world: World) -> None:
    account = await world.accounts.open("user-1", "Main")
    placed = await world.orders.place(
        "user-1",
        _limit(account.account_id, trigger_price=Decimal("31000.0"), trigger_direction=TriggerDirection.RISES_TO),
    )
    assert placed.order.status is OrderStatus.UNTRIGGERED


async def test_order_link_id_repeat_returns_the_first_order_and_queues_nothing(world: World) -> None:
    account = await world.accounts.open("user-1", "Main")
    first = await world.orders.place("user-1", _limit(account.account_id, order_link_id="bot-42"))
    again = await world.orders.place("user-1", _limit(account.account_id, order_link_id="bot-42", qty=Decimal("1")))
    assert not again.created
    assert again.order == first.order
    assert world.queue.pending() == 1


async def test_a_retry_gets_the_first_order_even_when_the_market_has_moved_past_it(world: World) -> None:
    account = await world.accounts.open("user-1", "Main")
    stop = _limit(
        account.account_id,
        trigger_price=Decimal("31000.0"),
        trigger_direction=TriggerDirection.RISES_TO,
        order_link_id="stop-1",
    )
    first = await world.orders.place("user-1", stop, last_price=Decimal("30000.0"))
    # The price rose past the trigger before the client's retry: on its own it would be refused.
    retry = await world.orders.place("user-1", stop, last_price=Decimal("31500.0"))
    assert (retry.created, retry.order) == (False, first.order)
    assert world.queue.pending() == 1


async def test_another_users_account_stays_hidden_after_its_owner_was_remembered(world: World) -> None:
    account = await world.accounts.open("user-1", "Main")
    await world.orders.place("user-1", _limit(account.account_id))
    with pytest.raises(NotFound):
        await world.orders.place("user-2", _limit(account.account_id))
    assert world.queue.pending() == 1


@pytest.mark.parametrize(
    ("changes", "error"),
    [({"price": Decimal("29000.05")}, PriceOffTick), ({"qty": Decimal("0.0001")}, QtyOffStep)],
)
async def test_rule_violations_record_nothing(world: World, changes: dict[str, object], error: type) -> None:
    account = await world.accounts.open("user-1", "Main")
    with pytest.raises(error):
        await world.orders.place("user-1", _limit(account.account_id, **changes))
    async with world.uow() as uow:
        assert await uow.orders.list_by_account(account.account_id) == []
    assert world.queue.pending() == 0


async def test_another_users_account_and_order_do_not_exist(world: World) -> None:
    mine = await world.accounts.open("user-1", "Main")
    placed = await world.orders.place("user-1", _limit(mine.account_id))
    with pytest.raises(NotFound):
        await world.orders.place("user-2", _limit(mine.account_id))
    with pytest.raises(NotFound):
        await world.orders.get("user-2", placed.order.order_id)
    with pytest.raises(NotFound):
        await world.orders.list("user-2", mine.account_id)
    with pytest.raises(NotFound):
        await world.orders.cancel("user-2", placed.order.order_id)
    with pytest.raises(NotFound):
        await world.accounts.get("user-2", mine.account_id)
    assert world.queue.pending() == 1


async def test_cancelling_a_closed_order_is_a_conflict(world: World) -> None:
    account = await world.accounts.open("user-1", "Main")
    placed = await world.orders.place("user-1", _limit(account.account_id))
    async with world.uow() as uow:
        await uow.orders.save(placed.order.cancelled(__import__("tradesim.domain").domain.CancelReason.BY_USER, 1))
        await uow.commit()
    with pytest.raises(OrderNotOpen):
        await world.orders.cancel("user-1", placed.order.order_id)


async def test_an_order_recorded_while_the_queue_is_down_is_still_accepted(world: World) -> None:
    """The record is the promise: the worker's sweeper queues it once the queue answers again."""
    account = await world.accounts.open("user-1", "Main")

    class DownQueue(MemoryOrderQueue):
        async def enqueue(self, command: Command) -> str:
            raise DependencyUnavailable("the order queue is unreachable")

    orders = OrderService(world.uow, DownQueue(partitions=2), default_catalog(), world.clock, lambda: "ord-down")
    placed = await orders.place("user-1", _limit(account.account_id))
    assert placed.created
    async with world.uow() as uow:
        stored = await uow.orders.get("ord-down")
        assert stored is not None
        assert stored.status is OrderStatus.NEW
        assert [o.order_id for o in await uow.orders.list_unaccepted(created_before=world.clock.now_ms() + 1)] == [
            "ord-down"
        ]
