"""How an order goes live: placed (validated, or kept untriggered), then activated: refused, matched, rested.

A GTC limit order that has not met the book (placed or amended while there is no fresh price, or
the remainder that still crosses the book after taking the displayed size) waits outside the
resting index: the next fresh ticker matches it as if it had just arrived (`match_awaiting_book`),
so it never pays more than the market it meets. No taker fill uses a price older than
`EngineConfig.max_price_age_ms` or from a feed marked stale.
"""

from __future__ import annotations

import attrs

from tradesim.domain.commands import PlaceOrder
from tradesim.domain.engine import bookkeeping, fills, pricing, reduce_only, reservations
from tradesim.domain.engine.state import AccountState, EngineState, Events, InstrumentState
from tradesim.domain.enums import CancelReason, OrderStatus, OrderType, TimeInForce
from tradesim.domain.errors import NoMarketPrice, NotFound, StalePrice, TradesimError
from tradesim.domain.events import OrderAccepted, OrderRejected
from tradesim.domain.order_rules import order_from_command, validate_place_order
from tradesim.domain.orders import Order

_RESTING = (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED)


def place(state: EngineState, cmd: PlaceOrder) -> Events:
    """Take a new order. A refused order comes back as `OrderRejected` naming the rule it broke.

    An order id the engine already holds open is a redelivery and changes nothing.
    """
    if cmd.order_id and cmd.order_id in state.orders:
        return []
    now = state.clock()
    order = order_from_command(cmd, cmd.order_id or state.ids(), now)
    account = state.accounts.get(cmd.account_id)
    if account is None:
        return [reject(state, order, NotFound(f"account {cmd.account_id!r} does not exist"))]
    market = state.instruments.get((cmd.category, cmd.symbol))
    try:
        instrument = state.catalog.get(cmd.symbol, cmd.category)
        assert market is not None
        fresh = market.is_fresh(now, state.config.max_price_age_ms)
        validate_place_order(cmd, instrument, last_price=market.last if fresh else None)
    except TradesimError as error:
        return [reject(state, order, error)]
    if order.status is OrderStatus.UNTRIGGERED:
        order = attrs.evolve(order, accepted_time=now)
        bookkeeping.store(state, order, account, market)
        market.index(order, state.next_seq())
        return [OrderAccepted(order)]
    return activate(state, order, market, account)


def reject(state: EngineState, order: Order, error: TradesimError) -> OrderRejected:
    rejected = order.rejected(error.code, error.message, state.clock())
    account = state.accounts.get(order.account_id)
    market = state.instruments.get((order.category, order.symbol))
    if account is not None and market is not None:
        bookkeeping.store(state, rejected, account, market)
    return OrderRejected(rejected, error)


def activate(state: EngineState, order: Order, market: InstrumentState, account: AccountState) -> Events:
    """An order going live (new, or just triggered): refuse it, match it, rest it, or cancel the rest."""
    config = state.config
    now = state.clock()
    instrument = market.instrument
    is_market = order.order_type is OrderType.MARKET
    tif = order.time_in_force
    fresh = market.is_fresh(now, config.max_price_age_ms)
    if (is_market or tif is not TimeInForce.GTC) and not fresh:
        return [reject(state, order, no_price(state, market, now))]
    if is_market:
        assert market.last is not None
        try:
            instrument.check_notional(order.remaining_qty, market.last)
        except TradesimError as error:
            return [reject(state, order, error)]
    if reduce_only.applies(order, instrument):
        grows = reduce_only.refusal(account, order)
        if grows is not None:
            return [reject(state, order, grows)]
    touch = pricing.touch(market, order.side) if fresh else None
    # Funds are checked at the worst price the order can fill at: its limit, or the touch moved
    # by the slippage model (a market buy that spends its whole balance must not overdraw it).
    if order.price is not None:
        reference = order.price
    else:
        assert touch is not None
        reference = config.slippage.adjust(order.side, touch, order.remaining_qty, instrument)
    refusal = reservations.check_funds(state, account, market, order, reference)
    if refusal is not None:
        return [reject(state, order, refusal)]

    events: Events = []
    if order.status is OrderStatus.NEW:
        order = attrs.evolve(order, accepted_time=now)
        events.append(OrderAccepted(order))
    marketable = touch is not None and (is_market or pricing.crosses(order.side, touch, order.price))  # type: ignore[arg-type]
    if marketable and tif is TimeInForce.POST_ONLY:
        return [*events, *bookkeeping.cancel(state, order, CancelReason.POST_ONLY_WOULD_TAKE)]
    if marketable:
        assert touch is not None
        qty = pricing.taker_qty(config, account, order, market)
        if tif is TimeInForce.FOK and qty < order.remaining_qty:
            return [*events, *bookkeeping.cancel(state, order, CancelReason.FOK_UNFILLABLE)]
        price = pricing.taker_price(config, market, order.side, touch, qty, order.price)
        if qty > 0:
            events.extend(fills.execute(state, order, qty, price, is_maker=False, market=market, account=account))
            current = state.orders.get(order.order_id)
            if current is None:
                return events
            order = current
    if is_market or tif in (TimeInForce.IOC, TimeInForce.FOK):
        return [*events, *bookkeeping.cancel(state, order, CancelReason.IOC_REMAINDER)]
    if order.status is OrderStatus.TRIGGERED:
        order = order.transition(OrderStatus.NEW, now)
        events.append(OrderAccepted(order))
    # Without a fresh price the order has not met the book yet; with one, a remainder left after
    # taking the displayed size still crosses it. Either way it is not a resting order yet.
    bookkeeping.rest(state, order, account, market, awaiting_book=not fresh or marketable)
    return events


def match_awaiting_book(state: EngineState, market: InstrumentState) -> Events:
    """A fresh ticker meets the limit orders that have not met the book: those it crosses take it.

    Each fills as taker at the better of its price and the touch (up to the displayed size when
    that is capped), exactly as if it had arrived now; what still crosses waits for the next
    ticker, and an order the touch does not cross becomes an ordinary resting order.
    """
    config = state.config
    events: Events = []
    waiting = list(market.awaiting_book)
    market.awaiting_book.clear()
    for order_id in waiting:
        order = state.orders.get(order_id)
        if order is None or order.status not in _RESTING or order.price is None:
            continue
        touch = pricing.touch(market, order.side)
        if touch is None or not pricing.crosses(order.side, touch, order.price):
            market.index(order, state.next_seq())
            continue
        account = state.accounts[order.account_id]
        if order.time_in_force is TimeInForce.POST_ONLY:
            events.extend(bookkeeping.cancel(state, order, CancelReason.POST_ONLY_WOULD_TAKE))
            continue
        if reduce_only.applies(order, market.instrument) and reduce_only.refusal(account, order):
            events.extend(bookkeeping.cancel(state, order, CancelReason.REDUCE_ONLY_NO_POSITION))
            continue
        qty = pricing.taker_qty(config, account, order, market)
        if qty > 0:
            price = pricing.taker_price(config, market, order.side, touch, qty, order.price)
            events.extend(fills.execute(state, order, qty, price, is_maker=False, market=market, account=account))
        current = state.orders.get(order_id)
        if current is not None and current.status.is_open:
            market.awaiting_book[order_id] = None
    return events


def no_price(state: EngineState, market: InstrumentState, now: int) -> TradesimError:
    """Why there is no price to take: none yet, a stale feed, or one too old."""
    symbol = market.instrument.symbol
    if market.last is None:
        return NoMarketPrice(f"no market price for {symbol} yet; market, IOC, FOK and PostOnly orders need one")
    if market.stale:
        return StalePrice(f"the price feed for {symbol} is stale; orders that need the book wait until it recovers")
    age = (now - market.ts) / 1000
    limit = state.config.max_price_age_ms / 1000
    return StalePrice(f"the last {symbol} price is {age:.1f} s old, beyond the {limit:g} s limit")
