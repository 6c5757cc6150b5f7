"""Keeping the engine's order tables consistent as orders open, change and close."""

from __future__ import annotations

from tradesim.domain.engine.base import Events
from tradesim.domain.engine.book import Book
from tradesim.domain.engine.risk import RiskMixin
from tradesim.domain.engine.state import AccountState
from tradesim.domain.enums import CancelReason, Category, OrderStatus
from tradesim.domain.events import OrderCancelled
from tradesim.domain.orders import Order


class BookkeepingMixin(RiskMixin):
    def _store(self, order: Order, state: AccountState, book: Book) -> None:
        """Keep the engine's view of `order` current; a closed order leaves every index."""
        order_id = order.order_id
        if order.status.is_open or order.status is OrderStatus.TRIGGERED:
            self._orders[order_id] = order
            state.open_orders.add(order_id)
            state.orders_by_instrument.setdefault((order.category, order.symbol), set()).add(order_id)
            if order.reduce_only and order.category is Category.LINEAR:
                state.reduce_only_orders.setdefault(order.symbol, set()).add(order_id)
            return
        self._orders.pop(order_id, None)
        state.open_orders.discard(order_id)
        on_instrument = state.orders_by_instrument.get((order.category, order.symbol))
        if on_instrument is not None:
            on_instrument.discard(order_id)
        reduce_only = state.reduce_only_orders.get(order.symbol)
        if reduce_only is not None and order.category is Category.LINEAR:
            reduce_only.discard(order_id)
        state.reservations.release(order_id)
        self._liq_dirty.add(state.account_id)
        book.unindex(order)
        if order.is_position_tpsl and state.tpsl.get((order.symbol, order.stop_order_type)) == order_id:
            del state.tpsl[(order.symbol, order.stop_order_type)]

    def _rest(self, order: Order, state: AccountState, book: Book, *, unseen: bool = False) -> None:
        """Put an open order in the book: index it (or, `unseen`, keep it for the next fresh ticker)
        and hold back what it needs."""
        self._store(order, state, book)
        if unseen:
            book.unseen[order.order_id] = None
        else:
            book.index(order, self._next_seq())
        self._reserve_for(state, book, order)

    def _cancel(self, order: Order, reason: CancelReason) -> Events:
        """Cancel (or, before its trigger, deactivate) an open order. Position fields are the caller's."""
        state = self._accounts[order.account_id]
        book = self._books[(order.category, order.symbol)]
        cancelled = order.cancelled(reason, self._clock())
        self._store(cancelled, state, book)
        return [OrderCancelled(cancelled, reason)]
