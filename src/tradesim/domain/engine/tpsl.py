"""A position's take-profit and stop-loss: reduce-only conditional orders for its full size.

They are set by an order's attached TP/SL when it opens or grows the position, or by the
trading-stop command; zero removes one. Closing or flipping the position cancels them, and with
them every reduce-only order on it.
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from tradesim.domain.commands import SetTradingStop
from tradesim.domain.engine import bookkeeping
from tradesim.domain.engine.made_orders import engine_order
from tradesim.domain.engine.state import AccountState, EngineState, Events, InstrumentState
from tradesim.domain.enums import (
    CancelReason,
    Category,
    CreateType,
    OrderStatus,
    Side,
    StopOrderType,
    TriggerBy,
    TriggerDirection,
)
from tradesim.domain.errors import InvalidTpSl, TradesimError
from tradesim.domain.events import CommandRejected, OrderAccepted, OrderAmended, PositionChanged
from tradesim.domain.numbers import ZERO, to_decimal
from tradesim.domain.order_rules import check_tpsl_prices
from tradesim.domain.orders import Order

_CREATED_BY = {
    StopOrderType.TAKE_PROFIT: CreateType.BY_TAKE_PROFIT,
    StopOrderType.STOP_LOSS: CreateType.BY_STOP_LOSS,
}
_FIELDS = {
    StopOrderType.TAKE_PROFIT: ("take_profit", "tp_trigger_by"),
    StopOrderType.STOP_LOSS: ("stop_loss", "sl_trigger_by"),
}


def set_trading_stop(state: EngineState, cmd: SetTradingStop) -> Events:
    try:
        account = state.account(cmd.account_id)
        market = state.instrument(cmd.symbol, Category.LINEAR)
        position = account.positions.get(cmd.symbol)
        if position is None or position.side is None:
            raise InvalidTpSl(f"there is no open {cmd.symbol} position to set take-profit / stop-loss on")
        take_profit = None if cmd.take_profit is None else to_decimal(cmd.take_profit, "takeProfit")
        stop_loss = None if cmd.stop_loss is None else to_decimal(cmd.stop_loss, "stopLoss")
        check_tpsl_prices(market.instrument, position.side, market.last, take_profit or None, stop_loss or None)
    except TradesimError as error:
        return [CommandRejected(cmd.account_id, "trading-stop", error)]
    events = set_position_tpsl(state, account, market, take_profit, stop_loss, cmd.tp_trigger_by, cmd.sl_trigger_by)
    events.append(PositionChanged(account.positions[cmd.symbol]))
    return events


def set_position_tpsl(
    state: EngineState,
    account: AccountState,
    market: InstrumentState,
    take_profit: Decimal | None,
    stop_loss: Decimal | None,
    tp_trigger_by: TriggerBy,
    sl_trigger_by: TriggerBy,
) -> Events:
    """Create, move or (with zero) remove the open position's TP/SL orders; updates the position.

    The caller reports the position afterwards.
    """
    symbol = market.instrument.symbol
    position = account.positions[symbol]
    if position.side is None:
        return []
    now = state.clock()
    events: Events = []
    changes: dict[str, object] = {}
    for kind, value, by in (
        (StopOrderType.TAKE_PROFIT, take_profit, tp_trigger_by),
        (StopOrderType.STOP_LOSS, stop_loss, sl_trigger_by),
    ):
        if value is None:
            continue
        price_field, by_field = _FIELDS[kind]
        existing_id = account.tpsl.get((symbol, kind))
        existing = state.orders.get(existing_id) if existing_id else None
        if value == 0:
            if existing is not None:
                events.extend(bookkeeping.cancel(state, existing, CancelReason.BY_USER))
            changes[price_field] = None
            continue
        rises = (kind is StopOrderType.TAKE_PROFIT) == (position.side is Side.BUY)
        direction = TriggerDirection.RISES_TO if rises else TriggerDirection.FALLS_TO
        if existing is not None:
            market.unindex(existing)
            order = attrs.evolve(
                existing, trigger_price=value, trigger_by=by, trigger_direction=direction, updated_time=now
            )
            bookkeeping.store(state, order, account, market)
            market.index(order, state.next_seq())
            events.append(OrderAmended(order))
        else:
            order = engine_order(
                state.ids(),
                account.account_id,
                symbol,
                position.side.opposite,
                ZERO,  # the position's size, taken when it triggers
                now,
                _CREATED_BY[kind],
                status=OrderStatus.UNTRIGGERED,
                trigger_price=value,
                trigger_direction=direction,
                trigger_by=by,
                stop_order_type=kind,
            )
            bookkeeping.store(state, order, account, market)
            market.index(order, state.next_seq())
            account.tpsl[(symbol, kind)] = order.order_id
            events.append(OrderAccepted(order))
        changes[price_field] = value
        changes[by_field] = by
    account.positions[symbol] = attrs.evolve(position, **changes, updated_time=now)  # type: ignore[arg-type]
    return events


def cancel_on_close(state: EngineState, account: AccountState, symbol: str) -> Events:
    """The position closed or flipped: its TP/SL and every reduce-only order on it go."""
    events: Events = []
    # Only the reduce-only orders, in id order: never every order of the account on the symbol.
    for order_id in sorted(account.reduce_only_orders.get(symbol, ())):
        order = state.orders[order_id]
        if not order.status.is_open:
            continue
        reason = CancelReason.POSITION_CLOSED if order.is_position_tpsl else CancelReason.REDUCE_ONLY_NO_POSITION
        events.extend(bookkeeping.cancel(state, order, reason))
    return events


def forget_cancelled(state: EngineState, order: Order) -> Events:
    """A position's TP/SL order was cancelled by its owner: the position no longer shows it."""
    if not order.is_position_tpsl:
        return []
    account = state.accounts[order.account_id]
    position = account.positions[order.symbol]
    if order.stop_order_type is StopOrderType.TAKE_PROFIT:
        position = attrs.evolve(position, take_profit=None, updated_time=state.clock())
    else:
        position = attrs.evolve(position, stop_loss=None, updated_time=state.clock())
    account.positions[order.symbol] = position
    return [PositionChanged(position)]
