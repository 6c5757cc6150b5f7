"""The worker's loop: commands and prices in, committed then published events out."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from decimal import Decimal

import pytest

from tests.unit.application.conftest import World
from tradesim.adapters.memory.messaging import MemoryEventBus
from tradesim.adapters.memory.unit_of_work import MemoryUnitOfWork
from tradesim.application.engine_service import EngineService
from tradesim.domain import (
    MatchingEngine,
    OrderFilled,
    OrderRejected,
    OrderStatus,
    OrderType,
    PlaceOrder,
    Side,
    Ticker,
    default_catalog,
)
from tradesim.domain.events import EngineEvent
from tradesim.ports.errors import DependencyUnavailable


async def _drain(world: World) -> list[EngineEvent]:
    events: list[EngineEvent] = []
    deliveries = await world.queue.receive("w", list(range(world.queue.partitions)), block_ms=10)
    for delivery in deliveries:
        events.extend(await world.engine_service.handle(delivery.command))
    await world.queue.ack(deliveries)
    return events


async def _ticker(world: World, last: str) -> list[EngineEvent]:
    price = Decimal(last)
    return await world.engine_service.on_market(
        Ticker(
            symbol="BTCUSDT",
            last_price=price,
            bid_price=price - Decimal("0.1"),
            ask_price=price,
            mark_price=price,
            ts=world.clock.now_ms(),
        )
    )


async def _market_buy(world: World, account_id: str, qty: str = "0.100") -> str:
    placed = await world.orders.place(
        "user-1",
        PlaceOrder(account_id, "BTCUSDT", Side.BUY, OrderType.MARKET, Decimal(qty)),
    )
    return placed.order.order_id


async def test_a_buy_through_the_queue_is_filled_persisted_and_published(world: World) -> None:
    account = await world.accounts.open("user-1", "Main", Decimal("10000"))
    subscription = world.events.subscribe()
    await subscription.watch(account.account_id)
    await _ticker(world, "30000.0")
    order_id = await _market_buy(world, account.account_id)
    events = await _drain(world)
    fills = [e for e in events if isinstance(e, OrderFilled)]
    assert len(fills) == 1
    # 0.1 BTC at the ask 30000.0; taker fee 0.1 x 30000 x 0.055% = 1.65 USDT
    assert fills[0].execution.exec_price == Decimal("30000.0")
    assert fills[0].execution.exec_fee == Decimal("1.650000")
    async with world.uow() as uow:
        stored = await uow.orders.get(order_id)
        assert stored is not None
        assert stored.status is OrderStatus.FILLED
        assert await uow.balances.get(account.account_id) == {"USDT": Decimal("9998.350000")}
        assert await uow.ledger.total(account.account_id, "USDT") == Decimal("9998.350000")
        position = await uow.positions.get(account.account_id, "BTCUSDT")
        assert position is not None
        assert position.size == Decimal("0.100")
    pushed = [await asyncio.wait_for(anext(aiter(subscription)), 1) for _ in range(len(events))]
    assert pushed == events
    await subscription.aclose()


async def test_a_redelivered_place_order_changes_nothing(world: World) -> None:
    account = await world.accounts.open("user-1", "Main", Decimal("10000"))
    await _ticker(world, "30000.0")
    order_id = await _market_buy(world, account.account_id)
    deliveries = await world.queue.receive("w", list(range(world.queue.partitions)), block_ms=10)
    first = await world.engine_service.handle(deliveries[0].command)
    again = await world.engine_service.handle(deliveries[0].command)
    assert first
    assert again == []
    async with world.uow() as uow:
        assert len(await uow.executions.list_by_order(order_id)) == 1
        assert await uow.balances.get(account.account_id) == {"USDT": Decimal("9998.350000")}


async def test_a_resting_limit_fills_on_a_later_tick_after_a_restart(world: World) -> None:
    account = await world.accounts.open("user-1", "Main", Decimal("10000"))
    await _ticker(world, "30000.0")
    placed = await world.orders.place(
        "user-1",
        PlaceOrder(
            account.account_id, "BTCUSDT", Side.BUY, OrderType.LIMIT, Decimal("0.010"), price=Decimal("29900.0")
        ),
    )
    await _drain(world)
    # A new worker process: empty engine, same store.
    from tradesim.application.engine_service import EngineService
    from tradesim.domain import MatchingEngine, default_catalog

    fresh = EngineService(MatchingEngine(default_catalog(), world.clock.now_ms), world.uow, world.events)
    assert await fresh.restore_all() == 1
    world.engine_service = fresh
    await _ticker(world, "29950.0")
    events = await _ticker(world, "29900.0")
    fills = [e for e in events if isinstance(e, OrderFilled)]
    assert [f.order.order_id for f in fills] == [placed.order.order_id]
    assert fills[0].execution.is_maker
    assert fills[0].execution.exec_price == Decimal("29900.0")


async def test_when_the_store_is_down_the_command_fails_and_nothing_is_lost(world: World) -> None:
    account = await world.accounts.open("user-1", "Main", Decimal("10000"))
    await _ticker(world, "30000.0")
    order_id = await _market_buy(world, account.account_id)
    deliveries = await world.queue.receive("w", list(range(world.queue.partitions)), block_ms=10)
    await world.engine_service.handle(
        PlaceOrder(account.account_id, "BTCUSDT", Side.BUY, OrderType.LIMIT, Decimal("0.010"), price=Decimal("29000.0"))
    )  # loads the account while the store is up
    world.database.available = False
    with pytest.raises(DependencyUnavailable):  # refused before the engine is touched
        await world.engine_service.handle(deliveries[0].command)
    assert world.engine_service.engine.open_orders(account.account_id)
    world.database.available = True
    world.database.commits_fail = True
    with pytest.raises(DependencyUnavailable):  # the engine filled, the commit failed
        await world.engine_service.handle(deliveries[0].command)
    assert not world.engine_service.engine.has_account(account.account_id)
    world.database.commits_fail = False
    events = await world.engine_service.handle(deliveries[0].command)  # the unacknowledged redelivery
    assert any(isinstance(e, OrderFilled) for e in events)
    async with world.uow() as uow:
        assert len(await uow.executions.list_by_order(order_id)) == 1
        balance = (await uow.balances.get(account.account_id))["USDT"]
        assert balance == await uow.ledger.total(account.account_id, "USDT")


async def test_margin_is_checked_against_the_stored_balance_another_worker_moved(world: World) -> None:
    account = await world.accounts.open("user-1", "Main", Decimal("1000"))
    await _ticker(world, "30000.0")
    await world.engine_service.handle(  # loads the account into this engine with 1000 USDT
        PlaceOrder(account.account_id, "BTCUSDT", Side.BUY, OrderType.LIMIT, Decimal("0.001"), price=Decimal("29000.0"))
    )
    async with world.uow() as uow:  # another worker's ETH fill lost 990 USDT in the meantime
        await uow.balances.apply(account.account_id, "USDT", Decimal("-990"))
        await uow.commit()
    # 0.01 BTC at 30000 with 10x needs 30 USDT of initial margin (plus fees): more than 10 USDT
    events = await world.engine_service.handle(
        PlaceOrder(account.account_id, "BTCUSDT", Side.BUY, OrderType.MARKET, Decimal("0.010"))
    )
    [rejected] = [e for e in events if isinstance(e, OrderRejected)]
    assert rejected.error.code == "INSUFFICIENT_MARGIN"


async def test_a_fill_committed_while_the_event_bus_is_down_stands_and_is_not_applied_twice(world: World) -> None:
    """Pushes are a courtesy; the record is the truth: a lost push must not make the worker retry."""
    account = await world.accounts.open("user-1", "Main", Decimal("10000"))

    class DownBus(MemoryEventBus):
        async def publish(self, events: Sequence[EngineEvent]) -> None:
            raise DependencyUnavailable("the event bus is unreachable")

    service = EngineService(MatchingEngine(default_catalog(), world.clock.now_ms), world.uow, DownBus())
    await service.on_market(Ticker.of("BTCUSDT", last="30000.0", bid="29999.9", ask="30000.0", ts=world.clock.now_ms()))
    order_id = await _market_buy(world, account.account_id)
    [delivery] = await world.queue.receive("w", list(range(world.queue.partitions)), block_ms=10)
    events = await service.handle(delivery.command)
    assert any(isinstance(e, OrderFilled) for e in events)
    async with world.uow() as uow:
        order = await uow.orders.get(order_id)
        assert order is not None
        assert order.status is OrderStatus.FILLED
        assert len(await uow.executions.list_by_order(order_id)) == 1


async def test_an_order_queued_twice_in_one_batch_fills_once(world: World) -> None:
    """The sweeper's copy may land in the same batch as the original: one fill, one position."""
    account = await world.accounts.open("user-1", "Main", Decimal("10000"))
    await _ticker(world, "30000.0")
    order_id = await _market_buy(world, account.account_id)
    [delivery] = await world.queue.receive("w", list(range(world.queue.partitions)), block_ms=10)
    await world.engine_service.handle_batch([delivery.command, delivery.command])
    async with world.uow() as uow:
        assert len(await uow.executions.list_by_order(order_id)) == 1
        position = await uow.positions.get(account.account_id, "BTCUSDT")
        assert position is not None
        assert position.size == Decimal("0.100")


async def test_a_batch_is_read_applied_and_committed_in_one_unit_of_work(world: World) -> None:
    """Accounts new to the engine, the redelivery check and the writes share one transaction;
    an order already taken in is skipped among new ones."""
    first = await world.accounts.open("user-1", "First", Decimal("10000"))
    second = await world.accounts.open("user-1", "Second", Decimal("5000"))
    await _ticker(world, "30000.0")
    done = await _market_buy(world, first.account_id)
    [delivered] = await world.queue.receive("w", list(range(world.queue.partitions)), block_ms=10)
    await world.engine_service.handle(delivered.command)
    await _market_buy(world, first.account_id, "0.010")
    await _market_buy(world, second.account_id, "0.020")
    batch = [d.command for d in await world.queue.receive("w", list(range(world.queue.partitions)), block_ms=10)]

    opened: list[MemoryUnitOfWork] = []

    def counted() -> MemoryUnitOfWork:
        opened.append(world.uow())
        return opened[-1]

    # A worker that just took the partitions over: both accounts are new to its engine.
    service = EngineService(MatchingEngine(default_catalog(), world.clock.now_ms), counted, world.events)
    await service.on_market(Ticker.of("BTCUSDT", last="30000.0", bid="29999.9", ask="30000.0", ts=world.clock.now_ms()))
    assert opened == []
    events = await service.handle_batch([delivered.command, *batch])
    assert len(opened) == 1
    fills = [e for e in events if isinstance(e, OrderFilled)]
    assert sorted((f.order.account_id, f.execution.exec_qty) for f in fills) == [
        (first.account_id, Decimal("0.010")),
        (second.account_id, Decimal("0.020")),
    ]
    async with world.uow() as uow:
        assert len(await uow.executions.list_by_order(done)) == 1
        for account in (first, second):
            balance = (await uow.balances.get(account.account_id))["USDT"]
            assert balance == await uow.ledger.total(account.account_id, "USDT")
        position = await uow.positions.get(first.account_id, "BTCUSDT")
        assert position is not None
        assert position.size == Decimal("0.110")
