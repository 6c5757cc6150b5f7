"""What a price makes due, and in which order: conditional triggers, resting limit fills, liquidations.

A conditional order triggers when its chosen price (last or mark) reaches the trigger in its
direction, and then behaves as a new order. A resting limit order fills at its own price, as maker,
when the last price reaches it. Within one price update, due orders are handled in this order:
conditional orders by last price (rising triggers, then falling), by mark price, resting limits
(buys, then sells), then liquidations by mark price; each group nearest-to-price first, ties first
in, first out. Each group is a heap whose top alone says whether anything in it is due, so a price
that makes nothing due costs a handful of comparisons whatever the number of resting orders.
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from tradesim.domain.engine import bookkeeping, fills, liquidation, placing, reduce_only
from tradesim.domain.engine.state import EngineState, Events, InstrumentState
from tradesim.domain.enums import CancelReason, OrderStatus
from tradesim.domain.events import OrderTriggered

_MAX_ROUNDS = 10_000


def due(market: InstrumentState, last: Decimal, mark: Decimal) -> bool:
    """Whether anything is due at these prices: only the tops of the heaps are looked at."""
    neg_last = -last
    neg_mark = -mark
    entries = market.buy_limits.entries
    if entries and entries[0][0] <= neg_last:
        return True
    entries = market.sell_limits.entries
    if entries and entries[0][0] <= last:
        return True
    entries = market.last_rise.entries
    if entries and entries[0][0] <= last:
        return True
    entries = market.last_fall.entries
    if entries and entries[0][0] <= neg_last:
        return True
    entries = market.mark_rise.entries
    if entries and entries[0][0] <= mark:
        return True
    entries = market.mark_fall.entries
    if entries and entries[0][0] <= neg_mark:
        return True
    entries = market.liq_long.entries
    if entries and entries[0][0] <= neg_mark:
        return True
    entries = market.liq_short.entries
    return bool(entries and entries[0][0] <= mark)


def match(state: EngineState, market: InstrumentState, last: Decimal, mark: Decimal) -> Events:
    """Handle everything due at these prices, in the documented order, until nothing more is."""
    events: Events = []
    for _ in range(_MAX_ROUNDS):
        before = len(events)
        for heap, price in (
            (market.last_rise, last),
            (market.last_fall, last),
            (market.mark_rise, mark),
            (market.mark_fall, mark),
        ):
            while (order_id := heap.pop_due(price)) is not None:
                events.extend(trigger(state, order_id, market))
        for heap in (market.buy_limits, market.sell_limits):
            while (order_id := heap.pop_due(last)) is not None:
                events.extend(fill_resting(state, order_id, market))
        for heap in (market.liq_long, market.liq_short):
            while (account_id := heap.pop_due(mark)) is not None:
                events.extend(liquidation.liquidate(state, account_id, market))
        if len(events) == before:
            break
    return events


def trigger(state: EngineState, order_id: str, market: InstrumentState) -> Events:
    """A conditional order's price was reached: it triggers and goes live (a TP/SL for the position's size)."""
    order = state.orders.get(order_id)
    if order is None or order.status is not OrderStatus.UNTRIGGERED:
        return []
    account = state.accounts[order.account_id]
    order = order.transition(OrderStatus.TRIGGERED, state.clock())
    bookkeeping.store(state, order, account, market)
    events: Events = [OrderTriggered(order)]
    if order.is_position_tpsl:
        position = account.positions.get(order.symbol)
        if position is None or position.side is not order.side.opposite:
            return [*events, *bookkeeping.cancel(state, order, CancelReason.POSITION_CLOSED)]
        order = attrs.evolve(order, qty=position.size)
        bookkeeping.store(state, order, account, market)
    events.extend(placing.activate(state, order, market, account))
    return events


def fill_resting(state: EngineState, order_id: str, market: InstrumentState) -> Events:
    """A resting limit order the last price reached fills at its own price, as maker."""
    order = state.orders.get(order_id)
    if order is None or not order.status.is_open or order.price is None:
        return []
    account = state.accounts[order.account_id]
    qty = order.remaining_qty
    if reduce_only.applies(order, market.instrument):
        if reduce_only.refusal(account, order) is not None:
            return bookkeeping.cancel(state, order, CancelReason.REDUCE_ONLY_NO_POSITION)
        qty = reduce_only.cap(account, order, qty)
    events = fills.execute(state, order, qty, order.price, is_maker=True, market=market, account=account)
    current = state.orders.get(order_id)
    if current is not None and current.status.is_open:
        market.index(current, state.next_seq())
    return events
