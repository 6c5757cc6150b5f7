"""Contracts of the price bus, the event bus and the order queue."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from typing import Any

import attrs

from tests.contract import records
from tests.waiting import until
from tradesim.domain import CancelOrder, OrderType, PlaceOrder, Side, Ticker
from tradesim.domain.events import BalanceChanged, PositionChanged
from tradesim.ports.messaging import EventBus, OrderQueue, PriceBus


def _ticker(symbol: str, last: str) -> Ticker:
    return Ticker.of(symbol, last=last, ts=records.T0)


async def _next(iterator: object) -> object:
    async with asyncio.timeout(2.0):
        return await anext(iterator)  # type: ignore[call-overload]


async def _settled(
    stream: AsyncIterator[Any], publish: Callable[[str], Awaitable[object]], marker: Callable[[Any], str | None]
) -> None:
    """Publish probes until the subscription hears one (pub/sub keeps nothing for a subscriber not
    yet listening), then a last marker, and read up to it: from then on the stream holds only what
    the test publishes next."""
    heard = asyncio.ensure_future(anext(stream))
    async with asyncio.timeout(5.0):
        while not heard.done():
            await publish("probe")
            await asyncio.wait({heard}, timeout=0.02)
    assert marker(heard.result()) == "probe"
    await publish("last")
    while marker(await _next(stream)) != "last":
        pass


#: How a test publishes a probe or the last marker, and which of them (if either) a message is.
Probes = tuple[Callable[[str], Awaitable[object]], Callable[[Any], str | None]]


def _ticker_probes(price_bus: PriceBus, symbol: str) -> Probes:
    prices = {"probe": "1", "last": "2"}
    names = {Decimal(v): k for k, v in prices.items()}
    return (lambda m: price_bus.publish(_ticker(symbol, prices[m])), lambda e: names.get(e.last_price))


def _balance_probes(event_bus: EventBus, account_id: str) -> Probes:
    ids = {"probe": 900, "last": 901}
    names = {records.entry(n, "0").entry_id: k for k, n in ids.items()}
    return (
        lambda m: event_bus.publish([BalanceChanged(records.entry(ids[m], "0", account_id=account_id))]),
        lambda e: names.get(e.entry.entry_id) if isinstance(e, BalanceChanged) else None,
    )


async def test_price_bus_delivers_only_subscribed_symbols_in_order(price_bus: PriceBus) -> None:
    subscription = price_bus.subscribe(["BTCUSDT"])
    stream = aiter(subscription)
    await _settled(stream, *_ticker_probes(price_bus, "BTCUSDT"))
    await price_bus.publish(_ticker("ETHUSDT", "2000"))
    await price_bus.publish(_ticker("BTCUSDT", "30000.1"))
    await price_bus.publish(_ticker("BTCUSDT", "30000.2"))
    first = await _next(stream)
    second = await _next(stream)
    assert isinstance(first, Ticker)
    assert isinstance(second, Ticker)
    assert (first.symbol, first.last_price) == ("BTCUSDT", Decimal("30000.1"))
    assert second.last_price == Decimal("30000.2")
    await subscription.aclose()


async def test_event_bus_delivers_events_of_watched_accounts_only(event_bus: EventBus) -> None:
    subscription = event_bus.subscribe()
    await subscription.watch("acc-2")
    stream = aiter(subscription)
    await _settled(stream, *_balance_probes(event_bus, "acc-2"))
    await event_bus.publish([BalanceChanged(records.entry(1, "5", account_id="acc-1"))])
    await event_bus.publish([BalanceChanged(records.entry(2, "7.25", account_id="acc-2"))])
    got = await _next(stream)
    assert isinstance(got, BalanceChanged)
    assert (got.entry.account_id, got.entry.amount) == ("acc-2", Decimal("7.25"))
    await subscription.unwatch("acc-2")
    await subscription.aclose()


async def test_event_bus_delivers_one_publish_of_several_accounts_to_each(event_bus: EventBus) -> None:
    subscription = event_bus.subscribe()
    await subscription.watch("acc-1")
    await subscription.watch("acc-2")
    stream = aiter(subscription)
    await _settled(stream, *_balance_probes(event_bus, "acc-2"))
    await event_bus.publish(
        [
            BalanceChanged(records.entry(1, "5", account_id="acc-1")),
            BalanceChanged(records.entry(2, "7.25", account_id="acc-2")),
            BalanceChanged(records.entry(3, "1", account_id="acc-1")),
        ]
    )
    got = [await _next(stream) for _ in range(3)]
    amounts = sorted((e.entry.account_id, e.entry.amount) for e in got if isinstance(e, BalanceChanged))
    assert amounts == [("acc-1", Decimal("1")), ("acc-1", Decimal("5")), ("acc-2", Decimal("7.25"))]
    # Each account's events keep their order.
    assert [e.entry.entry_id for e in got if isinstance(e, BalanceChanged) and e.entry.account_id == "acc-1"] == [
        records.entry(1, "5").entry_id,
        records.entry(3, "1").entry_id,
    ]
    await subscription.aclose()


async def test_event_bus_delivers_only_the_kinds_its_filter_wants(event_bus: EventBus) -> None:
    asked: list[tuple[str, type]] = []

    def wanted(account_id: str, kind: type) -> bool:
        asked.append((account_id, kind))
        return kind is PositionChanged

    subscription = event_bus.subscribe(wanted)
    await subscription.watch("acc-1")
    stream = aiter(subscription)
    sizes = {"probe": "0.001", "last": "0.002"}
    names = {Decimal(v): k for k, v in sizes.items()}
    await _settled(
        stream,
        lambda m: event_bus.publish([PositionChanged(records.position(size=sizes[m]))]),
        lambda e: names.get(e.position.size),
    )
    asked.clear()
    await event_bus.publish([BalanceChanged(records.entry(1, "5")), PositionChanged(records.position(size="0.020"))])
    got = await _next(stream)
    assert isinstance(got, PositionChanged)
    assert got.position.size == Decimal("0.020")
    assert asked == [("acc-1", BalanceChanged), ("acc-1", PositionChanged)]
    # An unwanted event, then a wanted one: the wanted one is the next to arrive.
    await event_bus.publish([BalanceChanged(records.entry(2, "6"))])
    await event_bus.publish([PositionChanged(records.position(size="0.030"))])
    after = await _next(stream)
    assert isinstance(after, PositionChanged)
    assert after.position.size == Decimal("0.030")
    await subscription.aclose()


def _place(n: int, symbol: str = "BTCUSDT") -> PlaceOrder:
    return PlaceOrder(
        account_id="acc-1",
        symbol=symbol,
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        qty=Decimal("0.010"),
        price=Decimal("30000.10"),
        order_id=f"ord-{n}",
    )


async def test_queue_partitions_by_symbol_stably(order_queue: OrderQueue) -> None:
    assert order_queue.partition_of("BTCUSDT") == order_queue.partition_of("BTCUSDT")
    assert {order_queue.partition_of(s) for s in ("BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT", "DOGEUSDT")} <= set(
        range(order_queue.partitions)
    )


async def test_queue_delivers_in_order_and_acknowledged_entries_are_gone(order_queue: OrderQueue) -> None:
    partition = order_queue.partition_of("BTCUSDT")
    for n in (1, 2, 3):
        await order_queue.enqueue(_place(n))
    await order_queue.enqueue(CancelOrder("acc-1", "ord-1", "BTCUSDT"))
    got = await order_queue.receive("worker-a", [partition], max_count=10, block_ms=500)
    assert [getattr(d.command, "order_id", None) for d in got] == ["ord-1", "ord-2", "ord-3", "ord-1"]
    assert got[0].command == _place(1)
    assert isinstance(got[3].command, CancelOrder)
    await order_queue.ack(got)
    assert await order_queue.receive("worker-a", [partition], block_ms=100) == []
    assert await order_queue.reclaim("worker-b", [partition], min_idle_ms=0) == []


async def test_queue_acknowledges_what_a_read_carries_before_reading(order_queue: OrderQueue) -> None:
    partition = order_queue.partition_of("BTCUSDT")
    await order_queue.enqueue_many([_place(1), _place(2)])
    first = await order_queue.receive("worker-a", [partition], max_count=1, block_ms=500)
    assert [d.command for d in first] == [_place(1)]
    second = await order_queue.receive("worker-a", [partition], max_count=10, block_ms=500, ack=first)
    assert [d.command for d in second] == [_place(2)]
    # Only the entry not acknowledged is still pending, for another consumer to take over once idle.
    taken = await until(lambda: order_queue.reclaim("worker-b", [partition], min_idle_ms=10))
    assert [d.command for d in taken] == [_place(2)]
    assert await order_queue.receive("worker-a", [partition], block_ms=0, ack=second) == []
    assert await order_queue.reclaim("worker-c", [partition], min_idle_ms=0) == []


async def test_queue_takes_many_commands_at_once_in_order_and_by_partition(order_queue: OrderQueue) -> None:
    eth = attrs.evolve(_place(2), symbol="ETHUSDT")
    commands = [_place(1), eth, _place(3), CancelOrder("acc-1", "ord-1", "BTCUSDT")]
    ids = await order_queue.enqueue_many(commands)
    assert len(ids) == 4
    assert await order_queue.enqueue_many([]) == []
    btc, other = order_queue.partition_of("BTCUSDT"), order_queue.partition_of("ETHUSDT")
    got = await order_queue.receive("worker-a", [btc], max_count=10, block_ms=500)
    expected = [c for c in commands if order_queue.partition_of(c.symbol) == btc]
    assert [d.command for d in got] == expected
    if other != btc:
        assert [d.command for d in await order_queue.receive("worker-a", [other], block_ms=500)] == [eth]


async def test_queue_redelivers_unacknowledged_entries_to_another_consumer(order_queue: OrderQueue) -> None:
    partition = order_queue.partition_of("BTCUSDT")
    await order_queue.enqueue(_place(1))
    first = await order_queue.receive("worker-a", [partition], block_ms=500)
    assert len(first) == 1
    assert await order_queue.reclaim("worker-b", [partition], min_idle_ms=60_000) == []
    again = await until(lambda: order_queue.reclaim("worker-b", [partition], min_idle_ms=10))
    assert [d.command for d in again] == [_place(1)]
    assert again[0].attempts >= 2
    await order_queue.ack(again)
    assert await order_queue.reclaim("worker-c", [partition], min_idle_ms=0) == []


async def test_queue_receive_waits_for_new_entries(order_queue: OrderQueue) -> None:
    partition = order_queue.partition_of("ETHUSDT")

    async def later() -> None:
        await asyncio.sleep(0.1)
        await order_queue.enqueue(_place(5, "ETHUSDT"))

    task = asyncio.create_task(later())
    got = await order_queue.receive("worker-a", [partition], block_ms=3000)
    await task
    assert [d.command for d in got] == [_place(5, "ETHUSDT")]


async def test_queue_receive_without_blocking_answers_at_once(order_queue: OrderQueue) -> None:
    partition = order_queue.partition_of("ETHUSDT")
    assert await asyncio.wait_for(order_queue.receive("worker-a", [partition], block_ms=0), timeout=2) == []
    await order_queue.enqueue(_place(6, "ETHUSDT"))
    got = await asyncio.wait_for(order_queue.receive("worker-a", [partition], block_ms=0), timeout=2)
    assert [d.command for d in got] == [_place(6, "ETHUSDT")]
