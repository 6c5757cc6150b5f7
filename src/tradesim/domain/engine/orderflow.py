"""How an order lives: placed, activated (matched, rested or refused), triggered, filled, liquidated."""

from __future__ import annotations

from decimal import Decimal

import attrs

from tradesim.domain.commands import PlaceOrder
from tradesim.domain.engine.base import Events
from tradesim.domain.engine.book import Book
from tradesim.domain.engine.fills import FillMixin
from tradesim.domain.engine.state import AccountState
from tradesim.domain.enums import (
    CancelReason,
    Category,
    CreateType,
    ExecType,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
)
from tradesim.domain.errors import (
    NoMarketPrice,
    NotFound,
    ReduceOnlyWouldGrow,
    StalePrice,
    TradesimError,
)
from tradesim.domain.events import OrderAccepted, OrderRejected, OrderTriggered
from tradesim.domain.numbers import ZERO
from tradesim.domain.order_rules import order_from_command, validate_place_order
from tradesim.domain.orders import Order

_RESTING = (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED)


class OrderFlowMixin(FillMixin):
    def place(self, cmd: PlaceOrder) -> Events:
        """Take a new order. A refused order comes back as `OrderRejected` naming the rule it broke.

        An order id the engine already holds open is a redelivery and changes nothing.
        """
        if cmd.order_id and cmd.order_id in self._orders:
            return []
        now = self._clock()
        order = self._new_order(cmd, now)
        state = self._accounts.get(cmd.account_id)
        if state is None:
            return [self._reject(order, NotFound(f"account {cmd.account_id!r} does not exist"))]
        book = self._books.get((cmd.category, cmd.symbol))
        try:
            instrument = self.catalog.get(cmd.symbol, cmd.category)
            assert book is not None
            fresh = book.is_fresh(now, self.config.max_price_age_ms)
            validate_place_order(cmd, instrument, last_price=book.last if fresh else None)
        except TradesimError as error:
            return [self._reject(order, error)]
        if order.status is OrderStatus.UNTRIGGERED:
            order = attrs.evolve(order, accepted_time=now)
            self._store(order, state, book)
            book.index(order, self._next_seq())
            return [OrderAccepted(order)]
        return self._activate(order, book, state)

    def _new_order(self, cmd: PlaceOrder, now: int) -> Order:
        return order_from_command(cmd, cmd.order_id or self._ids(), now)

    def _reject(self, order: Order, error: TradesimError) -> OrderRejected:
        rejected = order.rejected(error.code, error.message, self._clock())
        state = self._accounts.get(order.account_id)
        book = self._books.get((order.category, order.symbol))
        if state is not None and book is not None:
            self._store(rejected, state, book)
        return OrderRejected(rejected, error)

    def _activate(self, order: Order, book: Book, state: AccountState) -> Events:
        """An order going live (new, or just triggered): refuse it, match it, rest it, or cancel the rest."""
        now = self._clock()
        instrument = book.instrument
        is_market = order.order_type is OrderType.MARKET
        tif = order.time_in_force
        fresh = book.is_fresh(now, self.config.max_price_age_ms)
        if (is_market or tif is not TimeInForce.GTC) and not fresh:
            return [self._reject(order, self._no_price(book, now))]
        if is_market:
            assert book.last is not None
            try:
                instrument.check_notional(order.remaining_qty, book.last)
            except TradesimError as error:
                return [self._reject(order, error)]
        if order.reduce_only and instrument.is_linear:
            grows = self._reduce_only_refusal(state, order)
            if grows is not None:
                return [self._reject(order, grows)]
        touch = (book.ask if order.side is Side.BUY else book.bid) if fresh else None
        # Funds are checked at the worst price the order can fill at: its limit, or the touch moved
        # by the slippage model (a market buy that spends its whole balance must not overdraw it).
        if order.price is not None:
            reference = order.price
        else:
            assert touch is not None
            reference = self.config.slippage.adjust(order.side, touch, order.remaining_qty, instrument)
        refusal = self._check_funds(state, book, order, reference)
        if refusal is not None:
            return [self._reject(order, refusal)]

        events: Events = []
        if order.status is OrderStatus.NEW:
            order = attrs.evolve(order, accepted_time=now)
            events.append(OrderAccepted(order))
        marketable = touch is not None and (
            is_market or (touch <= order.price if order.side is Side.BUY else touch >= order.price)  # type: ignore[operator]
        )
        if marketable and tif is TimeInForce.POST_ONLY:
            return [*events, *self._close_unfilled(order, state, book, CancelReason.POST_ONLY_WOULD_TAKE)]
        if marketable:
            assert touch is not None
            qty = self._taker_qty(order, state, book)
            if tif is TimeInForce.FOK and qty < order.remaining_qty:
                return [*events, *self._close_unfilled(order, state, book, CancelReason.FOK_UNFILLABLE)]
            price = self.config.slippage.adjust(order.side, touch, qty, instrument)
            if order.price is not None:
                price = min(price, order.price) if order.side is Side.BUY else max(price, order.price)
            if qty > 0:
                events.extend(self._execute(order, qty, price, is_maker=False, book=book, state=state))
                current = self._orders.get(order.order_id)
                if current is None:
                    return events
                order = current
        if is_market or tif in (TimeInForce.IOC, TimeInForce.FOK):
            return [*events, *self._close_unfilled(order, state, book, CancelReason.IOC_REMAINDER)]
        if order.status is OrderStatus.TRIGGERED:
            order = order.transition(OrderStatus.NEW, now)
            events.append(OrderAccepted(order))
        # Without a fresh price the order has not met the book yet; with one, a remainder left after
        # taking the displayed size still crosses it. Either way it is not a resting order yet.
        self._rest(order, state, book, unseen=not fresh or marketable)
        return events

    def _match_unseen(self, book: Book) -> Events:
        """A fresh ticker meets the limit orders that have not met the book: those it crosses take it.

        Each fills as taker at the better of its price and the touch (up to the displayed size when
        that is capped), exactly as if it had arrived now; what still crosses waits for the next
        ticker, and an order the touch does not cross becomes an ordinary resting order.
        """
        events: Events = []
        waiting = list(book.unseen)
        book.unseen.clear()
        for order_id in waiting:
            order = self._orders.get(order_id)
            if order is None or order.status not in _RESTING or order.price is None:
                continue
            touch = book.ask if order.side is Side.BUY else book.bid
            if touch is None or (touch > order.price if order.side is Side.BUY else touch < order.price):
                book.index(order, self._next_seq())
                continue
            state = self._accounts[order.account_id]
            if order.time_in_force is TimeInForce.POST_ONLY:
                events.extend(self._cancel(order, CancelReason.POST_ONLY_WOULD_TAKE))
                continue
            if order.reduce_only and book.instrument.is_linear and self._reduce_only_refusal(state, order):
                events.extend(self._cancel(order, CancelReason.REDUCE_ONLY_NO_POSITION))
                continue
            qty = self._taker_qty(order, state, book)
            if qty > 0:
                price = self.config.slippage.adjust(order.side, touch, qty, book.instrument)
                price = min(price, order.price) if order.side is Side.BUY else max(price, order.price)
                events.extend(self._execute(order, qty, price, is_maker=False, book=book, state=state))
            current = self._orders.get(order_id)
            if current is not None and current.status.is_open:
                book.unseen[order_id] = None
        return events

    def _close_unfilled(self, order: Order, state: AccountState, book: Book, reason: CancelReason) -> Events:
        return self._cancel(order, reason)

    def _no_price(self, book: Book, now: int) -> TradesimError:
        symbol = book.instrument.symbol
        if book.last is None:
            return NoMarketPrice(f"no market price for {symbol} yet; market, IOC, FOK and PostOnly orders need one")
        if book.stale:
            return StalePrice(f"the price feed for {symbol} is stale; orders that need the book wait until it recovers")
        age = (now - book.ts) / 1000
        limit = self.config.max_price_age_ms / 1000
        return StalePrice(f"the last {symbol} price is {age:.1f} s old, beyond the {limit:g} s limit")

    def _reduce_only_refusal(self, state: AccountState, order: Order) -> ReduceOnlyWouldGrow | None:
        position = state.positions.get(order.symbol)
        if position is not None and position.side is order.side.opposite:
            return None
        held = "no position" if position is None or position.side is None else f"a {position.side.value} position"
        return ReduceOnlyWouldGrow(
            f"reduce-only {order.side.value} order would open or increase a position: {order.symbol} has {held}"
        )

    def _taker_qty(self, order: Order, state: AccountState, book: Book) -> Decimal:
        qty = order.remaining_qty
        if order.reduce_only and book.instrument.is_linear:
            position = state.positions.get(order.symbol)
            qty = min(qty, position.size if position is not None else ZERO)
        if self.config.cap_taker_fills_to_book_size:
            displayed = book.ask_size if order.side is Side.BUY else book.bid_size
            if displayed is not None:
                qty = min(qty, displayed - displayed % book.instrument.qty_step)
        return qty

    def _trigger(self, order_id: str, book: Book) -> Events:
        order = self._orders.get(order_id)
        if order is None or order.status is not OrderStatus.UNTRIGGERED:
            return []
        state = self._accounts[order.account_id]
        now = self._clock()
        order = order.transition(OrderStatus.TRIGGERED, now)
        self._store(order, state, book)
        events: Events = [OrderTriggered(order)]
        if order.is_position_tpsl:
            position = state.positions.get(order.symbol)
            if position is None or position.side is not order.side.opposite:
                return [*events, *self._cancel(order, CancelReason.POSITION_CLOSED)]
            order = attrs.evolve(order, qty=position.size)
            self._store(order, state, book)
        events.extend(self._activate(order, book, state))
        return events

    def _fill_resting(self, order_id: str, book: Book) -> Events:
        """A resting limit order the last price reached fills at its own price, as maker."""
        order = self._orders.get(order_id)
        if order is None or not order.status.is_open or order.price is None:
            return []
        state = self._accounts[order.account_id]
        qty = order.remaining_qty
        if order.reduce_only and book.instrument.is_linear:
            position = state.positions.get(order.symbol)
            if position is None or position.side is not order.side.opposite:
                return self._cancel(order, CancelReason.REDUCE_ONLY_NO_POSITION)
            qty = min(qty, position.size)
        events = self._execute(order, qty, order.price, is_maker=True, book=book, state=state)
        current = self._orders.get(order_id)
        if current is not None and current.status.is_open:
            book.index(current, self._next_seq())
        return events

    def _liquidate(self, account_id: str, book: Book) -> Events:
        """Mark price reached the liquidation price: cancel the symbol's orders, close at bankruptcy."""
        state = self._accounts.get(account_id)
        symbol = book.instrument.symbol
        if state is None:
            return []
        position = state.positions.get(symbol)
        if position is None or position.side is None or position.bust_price is None:
            return []
        events: Events = []
        for order_id in state.orders_on(Category.LINEAR, symbol):
            events.extend(self._cancel(self._orders[order_id], CancelReason.LIQUIDATION))
        position = state.positions[symbol]
        assert position.side is not None
        assert position.bust_price is not None
        now = self._clock()
        liquidation = Order(
            order_id=self._ids(),
            account_id=account_id,
            symbol=symbol,
            side=position.side.opposite,
            order_type=OrderType.MARKET,
            qty=position.size,
            status=OrderStatus.NEW,
            created_time=now,
            updated_time=now,
            time_in_force=TimeInForce.IOC,
            reduce_only=True,
            create_type=CreateType.BY_LIQUIDATION,
            accepted_time=now,
        )
        events.append(OrderAccepted(liquidation))
        events.extend(
            self._execute(
                liquidation,
                position.size,
                position.bust_price,
                is_maker=False,
                book=book,
                state=state,
                exec_type=ExecType.BUST_TRADE,
            )
        )
        return events
