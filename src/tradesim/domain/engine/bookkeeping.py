"""Keeping the engine's order tables consistent as orders open, change and close."""

from __future__ import annotations

from tradesim.domain.engine import reservations
from tradesim.domain.engine.state import AccountState, EngineState, Events, InstrumentState
from tradesim.domain.enums import CancelReason, Category, OrderStatus
from tradesim.domain.events import OrderCancelled
from tradesim.domain.orders import Order


def store(state: EngineState, order: Order, account: AccountState, market: InstrumentState) -> None:
    """Keep the engine's view of `order` current; a closed order leaves every index."""
    order_id = order.order_id
    linear = order.category is Category.LINEAR
    if order.status.is_open or order.status is OrderStatus.TRIGGERED:
        state.orders[order_id] = order
        account.open_orders.add(order_id)
        account.orders_by_instrument.setdefault((order.category, order.symbol), set()).add(order_id)
        if order.reduce_only and linear:
            account.reduce_only_orders.setdefault(order.symbol, set()).add(order_id)
        return
    state.orders.pop(order_id, None)
    account.open_orders.discard(order_id)
    on_instrument = account.orders_by_instrument.get((order.category, order.symbol))
    if on_instrument is not None:
        on_instrument.discard(order_id)
    reduce_only = account.reduce_only_orders.get(order.symbol)
    if reduce_only is not None and linear:
        reduce_only.discard(order_id)
    account.reservations.release(order_id)
    state.accounts_to_reprice.add(account.account_id)
    market.unindex(order)
    if order.is_position_tpsl and account.tpsl.get((order.symbol, order.stop_order_type)) == order_id:
        del account.tpsl[(order.symbol, order.stop_order_type)]


def rest(
    state: EngineState, order: Order, account: AccountState, market: InstrumentState, *, awaiting_book: bool = False
) -> None:
    """Put an open order in the book: index it (or, `awaiting_book`, keep it for the next fresh ticker)
    and hold back what it needs."""
    store(state, order, account, market)
    if awaiting_book:
        market.awaiting_book[order.order_id] = None
    else:
        market.index(order, state.next_seq())
    reservations.hold_for(state, account, market, order)


def cancel(state: EngineState, order: Order, reason: CancelReason) -> Events:
    """Cancel (or, before its trigger, deactivate) an open order. Position fields are the caller's."""
    account = state.accounts[order.account_id]
    market = state.instruments[(order.category, order.symbol)]
    cancelled = order.cancelled(reason, state.clock())
    store(state, cancelled, account, market)
    return [OrderCancelled(cancelled, reason)]
