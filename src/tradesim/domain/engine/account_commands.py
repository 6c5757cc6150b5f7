"""Commands other than placing an order: cancel, amend, trading-stop, leverage, transfers, funding."""

from __future__ import annotations

from decimal import Decimal

import attrs

from tradesim.domain.commands import AmendOrder, CancelOrder, SetLeverage, SettleFunding, SetTradingStop, Transfer
from tradesim.domain.engine.base import Events
from tradesim.domain.engine.book import Book
from tradesim.domain.engine.orderflow import OrderFlowMixin
from tradesim.domain.enums import (
    CancelReason,
    Category,
    LedgerKind,
    OrderStatus,
    OrderType,
    Side,
    StopOrderType,
    TimeInForce,
)
from tradesim.domain.errors import (
    InsufficientBalance,
    InvalidInput,
    InvalidTpSl,
    OrderNotOpen,
    PositionOpen,
    PostOnlyWouldTake,
    TradesimError,
)
from tradesim.domain.events import CommandRejected, OrderAmended, PositionChanged
from tradesim.domain.executions import derived_id
from tradesim.domain.numbers import ZERO, money_str, to_decimal
from tradesim.domain.order_rules import check_tpsl_prices
from tradesim.domain.orders import Order


class AccountCommandsMixin(OrderFlowMixin):
    def _open_order(self, account_id: str, order_id: str) -> Order:
        order = self._orders.get(order_id)
        if order is None or order.account_id != account_id or not order.status.is_open:
            raise OrderNotOpen(f"order {order_id} is not open: it is filled, cancelled or unknown")
        return order

    def cancel(self, cmd: CancelOrder) -> Events:
        try:
            order = self._open_order(cmd.account_id, cmd.order_id)
        except TradesimError as error:
            return [CommandRejected(cmd.account_id, "cancel", error, cmd.order_id)]
        events = self._cancel(order, CancelReason.BY_USER)
        if order.is_position_tpsl:
            state = self._accounts[order.account_id]
            position = state.positions[order.symbol]
            if order.stop_order_type is StopOrderType.TAKE_PROFIT:
                position = attrs.evolve(position, take_profit=None, updated_time=self._clock())
            else:
                position = attrs.evolve(position, stop_loss=None, updated_time=self._clock())
            state.positions[order.symbol] = position
            events.append(PositionChanged(position))
        return events

    def amend(self, cmd: AmendOrder) -> Events:
        """Change qty, price, trigger price or TP/SL of an open order; a marketable new price fills."""
        try:
            order = self._open_order(cmd.account_id, cmd.order_id)
            if order.is_position_tpsl:
                raise InvalidInput("amend a position's take-profit / stop-loss with trading-stop")
            amended = self._amended(order, cmd)
        except TradesimError as error:
            return [CommandRejected(cmd.account_id, "amend", error, cmd.order_id)]
        state = self._accounts[order.account_id]
        book = self._books[(order.category, order.symbol)]
        was_unseen = order.order_id in book.unseen
        book.unindex(order)
        state.reservations.release(order.order_id)
        price = amended.price if amended.price is not None else book.last
        refusal = None if price is None else self._check_funds(state, book, amended, price)
        if refusal is not None:
            self._rest(order, state, book, unseen=was_unseen)
            return [CommandRejected(cmd.account_id, "amend", refusal, cmd.order_id)]
        touch = book.ask if amended.side is Side.BUY else book.bid
        crosses = (
            amended.status is not OrderStatus.UNTRIGGERED
            and amended.price is not None
            and touch is not None
            and book.is_fresh(self._clock(), self.config.max_price_age_ms)
            and (touch <= amended.price if amended.side is Side.BUY else touch >= amended.price)
        )
        if crosses and amended.time_in_force is TimeInForce.POST_ONLY:
            assert touch is not None
            assert amended.price is not None
            self._rest(order, state, book, unseen=was_unseen)
            best = "ask" if amended.side is Side.BUY else "bid"
            refused = PostOnlyWouldTake(
                f"a PostOnly {amended.side.value} at {money_str(amended.price)} would take liquidity: "
                f"the best {best} is {money_str(touch)}"
            )
            return [CommandRejected(cmd.account_id, "amend", refused, cmd.order_id)]
        events: Events = [OrderAmended(amended)]
        if crosses and amended.order_type is OrderType.LIMIT:
            self._store(amended, state, book)
            qty = self._taker_qty(amended, state, book)
            if qty > 0:
                assert touch is not None
                assert amended.price is not None
                price = self.config.slippage.adjust(amended.side, touch, qty, book.instrument)
                price = min(price, amended.price) if amended.side is Side.BUY else max(price, amended.price)
                events.extend(self._execute(amended, qty, price, is_maker=False, book=book, state=state))
            current = self._orders.get(amended.order_id)
            if current is not None and current.status.is_open:
                # What the displayed size left still crosses the book: it meets the next ticker.
                self._rest(current, state, book, unseen=True)
            return events
        limit = amended.status is not OrderStatus.UNTRIGGERED and amended.order_type is OrderType.LIMIT
        fresh = book.is_fresh(self._clock(), self.config.max_price_age_ms)
        self._rest(amended, state, book, unseen=limit and not fresh)
        return events

    def _amended(self, order: Order, cmd: AmendOrder) -> Order:
        instrument = self.catalog.get(order.symbol, order.category)
        changes: dict[str, object] = {"updated_time": self._clock()}
        if cmd.qty is not None:
            qty = to_decimal(cmd.qty, "qty")
            instrument.check_qty(qty, market=order.order_type is OrderType.MARKET)
            if qty <= order.cum_exec_qty:
                raise InvalidInput(
                    f"qty {money_str(qty)} must exceed the {money_str(order.cum_exec_qty)} already filled"
                )
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

    def set_trading_stop(self, cmd: SetTradingStop) -> Events:
        try:
            state = self._account(cmd.account_id)
            book = self._book(cmd.symbol, Category.LINEAR)
            position = state.positions.get(cmd.symbol)
            if position is None or position.side is None:
                raise InvalidTpSl(f"there is no open {cmd.symbol} position to set take-profit / stop-loss on")
            take_profit = None if cmd.take_profit is None else to_decimal(cmd.take_profit, "takeProfit")
            stop_loss = None if cmd.stop_loss is None else to_decimal(cmd.stop_loss, "stopLoss")
            check_tpsl_prices(
                book.instrument,
                position.side,
                book.last,
                take_profit or None,
                stop_loss or None,
            )
        except TradesimError as error:
            return [CommandRejected(cmd.account_id, "trading-stop", error)]
        events = self._set_position_tpsl(state, book, take_profit, stop_loss, cmd.tp_trigger_by, cmd.sl_trigger_by)
        events.append(PositionChanged(state.positions[cmd.symbol]))
        return events

    def set_leverage(self, cmd: SetLeverage) -> Events:
        try:
            state = self._account(cmd.account_id)
            instrument = self.catalog.get(cmd.symbol, Category.LINEAR)
            leverage = to_decimal(cmd.leverage, "leverage")
            instrument.check_leverage(leverage)
            position = self._position(state, cmd.symbol)
            busy = position.side is not None or bool(state.orders_by_instrument.get((Category.LINEAR, cmd.symbol)))
            if busy:
                raise PositionOpen(
                    f"close the {cmd.symbol} position and cancel its open orders "
                    "before changing leverage or margin mode"
                )
        except TradesimError as error:
            return [CommandRejected(cmd.account_id, "set-leverage", error)]
        position = attrs.evolve(
            position, leverage=leverage, margin_mode=cmd.margin_mode or position.margin_mode, updated_time=self._clock()
        )
        state.positions[cmd.symbol] = position
        return [PositionChanged(position)]

    def transfer(self, cmd: Transfer) -> Events:
        try:
            state = self._account(cmd.account_id)
            amount = to_decimal(cmd.amount, "amount")
            if amount == 0:
                raise InvalidInput("a transfer amount must not be zero")
            available = self._available(state, cmd.coin)
            if amount < 0 and -amount > available:
                shown = money_str(max(available, ZERO))
                raise InsufficientBalance(
                    f"cannot withdraw {money_str(-amount)} {cmd.coin}: only {shown} {cmd.coin} is available"
                )
        except TradesimError as error:
            return [CommandRejected(cmd.account_id, "transfer", error)]
        entry_id = derived_id("transfer", cmd.transfer_id)
        events: Events = [self._post(state, cmd.coin, amount, LedgerKind.TRANSFER, entry_id, cmd.transfer_id, "")]
        events.extend(self._refresh_liquidation(state))
        return events

    def settle_funding(self, cmd: SettleFunding) -> Events:
        book = self._books.get((Category.LINEAR, cmd.symbol))
        if book is None or cmd.funding_time <= book.funding_settled_at:
            return []
        book.funding_settled_at = cmd.funding_time
        return self._settle_funding(
            book, to_decimal(cmd.rate, "rate"), to_decimal(cmd.mark_price, "markPrice"), cmd.funding_time
        )

    def _settle_funding(self, book: Book, rate: Decimal, mark: Decimal, funding_time: int) -> Events:
        """Longs pay shorts size x mark x rate when the rate is positive (and the reverse when negative)."""
        events: Events = []
        symbol = book.instrument.symbol
        coin = self.config.settle_coin
        for account_id in sorted(book.position_accounts):
            state = self._accounts[account_id]
            position = state.positions[symbol]
            if position.side is None:
                continue
            amount = -position.signed_size * mark * rate
            if not amount:
                continue
            entry_id = derived_id("funding", account_id, symbol, funding_time)
            events.append(self._post(state, coin, amount, LedgerKind.FUNDING, entry_id, entry_id, symbol))
            state.positions[symbol] = attrs.evolve(
                position, cum_realised_pnl=position.cum_realised_pnl + amount, updated_time=self._clock()
            )
            events.extend(self._refresh_liquidation(state, skip=symbol))
            events.append(PositionChanged(state.positions[symbol]))
        return events
