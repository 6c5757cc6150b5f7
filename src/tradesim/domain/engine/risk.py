"""Balances the trader can use, the margin an order needs, and liquidation prices."""

from __future__ import annotations

from decimal import Decimal

import attrs

from tradesim.domain.accounts import AccountView
from tradesim.domain.engine.base import EngineBase, Events
from tradesim.domain.engine.book import Book
from tradesim.domain.engine.reservations import LinearHold
from tradesim.domain.engine.state import AccountState
from tradesim.domain.enums import Category, OrderStatus, Side
from tradesim.domain.errors import InsufficientBalance, InsufficientMargin, RuleViolation
from tradesim.domain.events import PositionChanged
from tradesim.domain.margin import liquidation_prices, order_cost
from tradesim.domain.numbers import ZERO, money_str
from tradesim.domain.orders import Order
from tradesim.domain.positions import Position


class RiskMixin(EngineBase):
    def _mark(self, symbol: str) -> Decimal | None:
        book = self._books.get((Category.LINEAR, symbol))
        return book.mark if book is not None else None

    def _unrealised(self, position: Position) -> Decimal:
        mark = self._mark(position.symbol)
        return position.unrealised_pnl(mark) if mark is not None else ZERO

    def _available(self, state: AccountState, coin: str) -> Decimal:
        """What new orders may still use: for the settle coin, equity minus every initial margin."""
        wallet = state.balance(coin)
        if coin != self.config.settle_coin:
            return wallet - state.reserved_in(coin)
        upnl = ZERO
        position_im = ZERO
        for position in state.positions.values():
            if position.size:
                position_im += position.position_margin
                if self._is_cross(position):
                    upnl += self._unrealised(position)
        return wallet + upnl - position_im - state.reserved_in(coin)

    def account_view(self, account_id: str) -> AccountView:
        """Bybit-style wallet figures for the account's settle coin (raises `NotFound`)."""
        state = self._account(account_id)
        coin = self.config.settle_coin
        upnl = sum((self._unrealised(p) for p in state.positions.values() if p.size), ZERO)
        position_im = sum((p.position_margin for p in state.positions.values() if p.size), ZERO)
        wallet = state.balance(coin)
        return AccountView(
            account_id=account_id,
            coin=coin,
            wallet_balance=wallet,
            equity=wallet + upnl,
            available_balance=max(self._available(state, coin), ZERO),
            unrealised_pnl=upnl,
            position_im=position_im,
            order_im=state.reserved_in(coin),
            balances=dict(state.balances),
        )

    def _opening_qty(self, state: AccountState, order: Order, qty: Decimal) -> Decimal:
        """The part of `qty` that opens or grows a linear position (the rest only reduces it)."""
        position = state.positions.get(order.symbol)
        if position is None or position.side is None or position.side is order.side:
            return qty
        return max(qty - position.size, ZERO)

    def _funds_needed(self, state: AccountState, book: Book, order: Order, qty: Decimal, price: Decimal) -> Decimal:
        """What `qty` of `order` at `price` must have available, in `_funds_coin(order)`."""
        instrument = book.instrument
        if instrument.is_linear:
            if order.reduce_only:
                return ZERO
            opening = self._opening_qty(state, order, qty)
            if not opening:
                return ZERO
            leverage = self._position(state, order.symbol).leverage
            return order_cost(order.side, opening, price, leverage, instrument.taker_fee_rate)
        return qty * price if order.side is Side.BUY else qty

    def _funds_coin(self, book: Book, order: Order) -> str:
        instrument = book.instrument
        if instrument.is_linear or order.side is Side.BUY:
            return instrument.quote_coin
        return instrument.base_coin

    def _check_funds(self, state: AccountState, book: Book, order: Order, price: Decimal) -> RuleViolation | None:
        needed = self._funds_needed(state, book, order, order.remaining_qty, price)
        if not needed:
            return None
        coin = self._funds_coin(book, order)
        available = self._available(state, coin)
        if needed <= available:
            return None
        shown = money_str(max(available, ZERO))
        if book.instrument.is_linear:
            return InsufficientMargin(
                f"order cost {money_str(needed)} {coin} (initial margin plus fees to open and close) "
                f"exceeds the available balance {shown} {coin}"
            )
        return InsufficientBalance(f"order needs {money_str(needed)} {coin} but only {shown} {coin} is available")

    def _reserve_for(self, state: AccountState, book: Book, order: Order) -> None:
        """Hold back what the open remainder of a resting order needs."""
        self._liq_dirty.add(state.account_id)
        reservations = state.reservations
        if not order.status.is_open or order.status is OrderStatus.UNTRIGGERED:
            reservations.release(order.order_id)
            return
        price = order.price if order.price is not None else book.last
        if price is None:
            return
        instrument = book.instrument
        if not instrument.is_linear:
            amount = self._funds_needed(state, book, order, order.remaining_qty, price)
            reservations.hold_spot(order.order_id, self._funds_coin(book, order), amount)
        elif order.reduce_only:
            reservations.release(order.order_id)
        else:
            position = self._position(state, order.symbol)
            hold = LinearHold(
                order.symbol, order.side, order.remaining_qty, price, position.leverage, instrument.taker_fee_rate
            )
            reservations.hold_linear(order.order_id, instrument.quote_coin, hold, position.side, position.size)

    def _reprice_liquidations(self) -> Events:
        """Recompute the liquidation prices of accounts whose free balance changed since the last time.

        Run at the end of every command and price update, so a cross position's prices always
        reflect the balance and the margin its account's open orders hold, whatever event moved them.
        """
        if not self._liq_dirty:
            return []
        events: Events = []
        for account_id in sorted(self._liq_dirty):
            state = self._accounts[account_id]
            if any(p.side is not None and self._is_cross(p) for p in state.positions.values()):
                events.extend(self._refresh_liquidation(state))
        self._liq_dirty.clear()
        return events

    def _refresh_liquidation(self, state: AccountState, skip: str = "") -> Events:
        """Recompute liquidation prices of the account's open positions and re-index them.

        Cross positions may lose the whole free balance, so their prices move with every change
        to it; isolated ones only with their own fills. Returns events for positions other
        than `skip` (the caller reports that one itself).
        """
        events: Events = []
        settle = self.config.settle_coin
        total_im = sum((p.position_margin for p in state.positions.values() if p.size), ZERO)
        free = max(state.balance(settle) - total_im - state.reserved_in(settle), ZERO)
        for symbol, position in state.positions.items():
            book = self._books.get((Category.LINEAR, symbol))
            if book is None:
                continue
            liq: Decimal | None = None
            bust: Decimal | None = None
            if position.side is not None:
                margin = position.position_margin + (free if self._is_cross(position) else ZERO)
                liq, bust = liquidation_prices(
                    position.side,
                    position.size,
                    position.entry_value,
                    margin,
                    book.instrument.maintenance_margin_rate,
                    book.instrument.tick_size,
                )
            if liq != position.liq_price or bust != position.bust_price:
                position = attrs.evolve(position, liq_price=liq, bust_price=bust)
                state.positions[symbol] = position
                if symbol != skip:
                    events.append(PositionChanged(position))
                book.index_liquidation(state.account_id, position.side, liq, self._next_seq())
        return events
