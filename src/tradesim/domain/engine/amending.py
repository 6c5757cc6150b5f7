"""The owner's changes to an open order: cancel it, or amend its qty, price, trigger price or TP/SL."""

from __future__ import annotations

import attrs

from tradesim.domain.commands import AmendOrder, CancelOrder
from tradesim.domain.engine import bookkeeping, fills, pricing, reservations, tpsl
from tradesim.domain.engine.state import EngineState, Events
from tradesim.domain.enums import CancelReason, OrderStatus, OrderType, Side, TimeInForce
from tradesim.domain.errors import InvalidInput, OrderNotOpen, PostOnlyWouldTake, TradesimError
from tradesim.domain.events import CommandRejected, OrderAmended
from tradesim.domain.numbers import money_str, to_decimal
from tradesim.domain.order_rules import check_tpsl_prices
from tradesim.domain.orders import Order


def cancel(state: EngineState, cmd: CancelOrder) -> Events:
    try:
        order = _open_order(state, cmd.account_id, cmd.order_id)
    except TradesimError as error:
        return [CommandRejected(cmd.account_id, "cancel", error, cmd.order_id)]
    events = bookkeeping.cancel(state, order, CancelReason.BY_USER)
    events.extend(tpsl.forget_cancelled(state, order))
    return events


def amend(state: EngineState, cmd: AmendOrder) -> Events:
    """Change qty, price, trigger price or TP/SL of an open order; a marketable new price fills."""
    try:
        order = _open_order(state, cmd.account_id, cmd.order_id)
        if order.is_position_tpsl:
            raise InvalidInput("amend a position's take-profit / stop-loss with trading-stop")
        amended = _amended(state, order, cmd)
    except TradesimError as error:
        return [CommandRejected(cmd.account_id, "amend", error, cmd.order_id)]
    config = state.config
    account = state.accounts[order.account_id]
    market = state.instruments[(order.category, order.symbol)]
    was_awaiting = order.order_id in market.awaiting_book
    market.unindex(order)
    account.reservations.release(order.order_id)
    price = amended.price if amended.price is not None else market.last
    refusal = None if price is None else reservations.check_funds(state, account, market, amended, price)
    if refusal is not None:
        bookkeeping.rest(state, order, account, market, awaiting_book=was_awaiting)
        return [CommandRejected(cmd.account_id, "amend", refusal, cmd.order_id)]
    touch = pricing.touch(market, amended.side)
    fresh = market.is_fresh(state.clock(), config.max_price_age_ms)
    crosses = (
        amended.status is not OrderStatus.UNTRIGGERED
        and amended.price is not None
        and touch is not None
        and fresh
        and pricing.crosses(amended.side, touch, amended.price)
    )
    if crosses and amended.time_in_force is TimeInForce.POST_ONLY:
        assert touch is not None
        assert amended.price is not None
        bookkeeping.rest(state, order, account, market, awaiting_book=was_awaiting)
        best = "ask" if amended.side is Side.BUY else "bid"
        refused = PostOnlyWouldTake(
            f"a PostOnly {amended.side.value} at {money_str(amended.price)} would take liquidity: "
            f"the best {best} is {money_str(touch)}"
        )
        return [CommandRejected(cmd.account_id, "amend", refused, cmd.order_id)]
    events: Events = [OrderAmended(amended)]
    if crosses and amended.order_type is OrderType.LIMIT:
        bookkeeping.store(state, amended, account, market)
        qty = pricing.taker_qty(config, account, amended, market)
        if qty > 0:
            assert touch is not None
            taken = pricing.taker_price(config, market, amended.side, touch, qty, amended.price)
            events.extend(fills.execute(state, amended, qty, taken, is_maker=False, market=market, account=account))
        current = state.orders.get(amended.order_id)
        if current is not None and current.status.is_open:
            # What the displayed size left still crosses the book: it meets the next ticker.
            bookkeeping.rest(state, current, account, market, awaiting_book=True)
        return events
    limit = amended.status is not OrderStatus.UNTRIGGERED and amended.order_type is OrderType.LIMIT
    bookkeeping.rest(state, amended, account, market, awaiting_book=limit and not fresh)
    return events


def _open_order(state: EngineState, account_id: str, order_id: str) -> Order:
    order = state.orders.get(order_id)
    if order is None or order.account_id != account_id or not order.status.is_open:
        raise OrderNotOpen(f"order {order_id} is not open: it is filled, cancelled or unknown")
    return order


def _amended(state: EngineState, order: Order, cmd: AmendOrder) -> Order:
    instrument = state.catalog.get(order.symbol, order.category)
    changes: dict[str, object] = {"updated_time": state.clock()}
    if cmd.qty is not None:
        qty = to_decimal(cmd.qty, "qty")
        instrument.check_qty(qty, market=order.order_type is OrderType.MARKET)
        if qty <= order.cum_exec_qty:
            raise InvalidInput(f"qty {money_str(qty)} must exceed the {money_str(order.cum_exec_qty)} already filled")
        changes["qty"] = qty
    if cmd.price is not None:
        if order.order_type is not OrderType.LIMIT:
            raise InvalidInput("only a Limit order has a price to amend")
        price = to_decimal(cmd.price, "price")
        instrument.check_price(price)
        changes["price"] = price
    if cmd.trigger_price is not None:
        if order.status is not OrderStatus.UNTRIGGERED:
            raise InvalidInput("only an untriggered conditional order has a trigger price to amend")
        trigger = to_decimal(cmd.trigger_price, "triggerPrice")
        instrument.check_price(trigger, "triggerPrice")
        changes["trigger_price"] = trigger
    for name, value in (("take_profit", cmd.take_profit), ("stop_loss", cmd.stop_loss)):
        if value is not None:
            changes[name] = None if value == 0 else to_decimal(value, name)
    amended = attrs.evolve(order, **changes)  # type: ignore[arg-type]
    base = amended.price if amended.price is not None else amended.trigger_price
    if instrument.is_linear and (amended.take_profit is not None or amended.stop_loss is not None):
        check_tpsl_prices(instrument, amended.side, base, amended.take_profit, amended.stop_loss)
    if amended.price is not None:
        instrument.check_notional(amended.qty, amended.price)
    return amended
