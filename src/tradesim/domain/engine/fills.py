"""Applying an execution: the order, the position or spot balances, fees, and the ledger."""

from __future__ import annotations

from decimal import Decimal

import attrs

from tradesim.domain.engine.base import Events
from tradesim.domain.engine.book import Book
from tradesim.domain.engine.state import AccountState
from tradesim.domain.engine.tpsl import TpSlMixin
from tradesim.domain.enums import CancelReason, ExecType, LedgerKind, Side
from tradesim.domain.events import BalanceChanged, OrderFilled, PositionChanged
from tradesim.domain.executions import Execution, derived_id
from tradesim.domain.numbers import ZERO, Price, Quantity
from tradesim.domain.orders import Order


class FillMixin(TpSlMixin):
    def _execute(
        self,
        order: Order,
        qty: Decimal,
        price: Decimal,
        *,
        is_maker: bool,
        book: Book,
        state: AccountState,
        exec_type: ExecType = ExecType.TRADE,
    ) -> Events:
        """Fill `qty` of `order` at `price` and report everything that changed because of it."""
        instrument = book.instrument
        now = self._clock()
        rate = ZERO if exec_type is ExecType.BUST_TRADE else instrument.fee_rate(maker=is_maker)
        # Named by the order and how much of it had filled before: a redelivered fill keeps its id.
        exec_id = derived_id("exec", order.order_id, order.cum_exec_qty)
        value = qty * price
        balance_events: list[BalanceChanged] = []
        closed = pnl = ZERO
        if instrument.is_linear:
            fee = value * rate
            fee_coin = instrument.quote_coin
            closed, pnl, balance_events, position_before = self._settle_linear(order, qty, price, fee, exec_id, state)
        else:
            fee, fee_coin = self._settle_spot(order, qty, value, rate, exec_id, state, balance_events)
            position_before = None  # spot has no position
        filled = order.with_fill(qty, price, fee, now)
        if filled.accepted_time == 0:
            filled = attrs.evolve(filled, accepted_time=now)
        self._store(filled, state, book)
        self._reserve_for(state, book, filled)
        execution = Execution(
            exec_id=exec_id,
            order_id=order.order_id,
            account_id=order.account_id,
            symbol=order.symbol,
            side=order.side,
            exec_price=Price(price),
            exec_qty=Quantity(qty),
            exec_fee=fee,
            fee_rate=rate,
            is_maker=is_maker,
            exec_time=now,
            order_type=order.order_type,
            category=order.category,
            exec_type=exec_type,
            closed_size=closed,
            exec_pnl=pnl,
            order_link_id=order.order_link_id,
            fee_coin=fee_coin,
        )
        events: Events = [OrderFilled(filled, execution), *balance_events]
        if instrument.is_linear:
            events.extend(self._after_position_fill(filled, position_before, state, book))
        return events

    def _settle_linear(
        self, order: Order, qty: Decimal, price: Decimal, fee: Decimal, exec_id: str, state: AccountState
    ) -> tuple[Decimal, Decimal, list[BalanceChanged], Side | None]:
        position = self._position(state, order.symbol)
        side_before = position.side
        outcome = position.apply_fill(order.side, qty, price, self._clock())
        pnl = outcome.realised_pnl
        coin = self.config.settle_coin
        entries: list[BalanceChanged] = []
        if pnl:
            entries.append(
                self._post(state, coin, pnl, LedgerKind.REALISED_PNL, derived_id(exec_id, "pnl"), exec_id, order.symbol)
            )
        if fee:
            entries.append(
                self._post(state, coin, -fee, LedgerKind.FEE, derived_id(exec_id, "fee"), exec_id, order.symbol)
            )
        state.positions[order.symbol] = attrs.evolve(
            outcome.position, cum_realised_pnl=position.cum_realised_pnl + pnl - fee
        )
        return outcome.closed_qty, pnl, entries, side_before

    def _settle_spot(
        self,
        order: Order,
        qty: Decimal,
        value: Decimal,
        rate: Decimal,
        exec_id: str,
        state: AccountState,
        out: list[BalanceChanged],
    ) -> tuple[Decimal, str]:
        """Spot: swap coins; the fee is taken from what the trader receives (as on Bybit)."""
        instrument = self._books[(order.category, order.symbol)].instrument
        base, quote = instrument.base_coin, instrument.quote_coin
        received, paid = (base, quote) if order.side is Side.BUY else (quote, base)
        got = qty if order.side is Side.BUY else value
        gave = value if order.side is Side.BUY else qty
        fee = got * rate
        symbol = order.symbol
        out.append(self._post(state, paid, -gave, LedgerKind.TRADE, derived_id(exec_id, "paid"), exec_id, symbol))
        out.append(self._post(state, received, got, LedgerKind.TRADE, derived_id(exec_id, "got"), exec_id, symbol))
        if fee:
            out.append(self._post(state, received, -fee, LedgerKind.FEE, derived_id(exec_id, "fee"), exec_id, symbol))
        return fee, received

    def _after_position_fill(self, order: Order, side_before: Side | None, state: AccountState, book: Book) -> Events:
        """Consequences of a position change: stale TP/SL and reduce-only orders, attached TP/SL, liquidation."""
        events: Events = []
        symbol = order.symbol
        position = state.positions[symbol]
        if position.side is None:
            book.position_accounts.discard(state.account_id)
        else:
            book.position_accounts.add(state.account_id)
        if side_before is not None and position.side is not side_before:
            events.extend(self._close_position_orders(state, symbol))
        # What the orders against the position hold moved with it.
        state.reservations.reprice(symbol, position.side, position.size)
        attached = order.take_profit is not None or order.stop_loss is not None
        if attached and position.side is order.side and not order.reduce_only:
            events.extend(
                self._set_position_tpsl(
                    state, book, order.take_profit, order.stop_loss, order.tp_trigger_by, order.sl_trigger_by
                )
            )
        events.extend(self._refresh_liquidation(state, skip=symbol))
        events.append(PositionChanged(state.positions[symbol]))
        return events

    def _close_position_orders(self, state: AccountState, symbol: str) -> Events:
        """The position closed or flipped: its TP/SL and every reduce-only order on it go."""
        events: Events = []
        # Only the reduce-only orders, in id order: never every order of the account on the symbol.
        for order_id in sorted(state.reduce_only_orders.get(symbol, ())):
            order = self._orders[order_id]
            if not order.status.is_open:
                continue
            reason = CancelReason.POSITION_CLOSED if order.is_position_tpsl else CancelReason.REDUCE_ONLY_NO_POSITION
            events.extend(self._cancel(order, reason))
        return events
