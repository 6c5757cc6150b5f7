"""A position's take-profit and stop-loss: reduce-only conditional orders for its full size."""

from __future__ import annotations

from decimal import Decimal

import attrs

from tradesim.domain.engine.base import Events
from tradesim.domain.engine.book import Book
from tradesim.domain.engine.bookkeeping import BookkeepingMixin
from tradesim.domain.engine.state import AccountState
from tradesim.domain.enums import (
    CancelReason,
    CreateType,
    OrderStatus,
    OrderType,
    Side,
    StopOrderType,
    TimeInForce,
    TriggerBy,
    TriggerDirection,
)
from tradesim.domain.events import OrderAccepted, OrderAmended
from tradesim.domain.numbers import ZERO
from tradesim.domain.orders import Order

_CREATED_BY = {
    StopOrderType.TAKE_PROFIT: CreateType.BY_TAKE_PROFIT,
    StopOrderType.STOP_LOSS: CreateType.BY_STOP_LOSS,
}
_FIELDS = {
    StopOrderType.TAKE_PROFIT: ("take_profit", "tp_trigger_by"),
    StopOrderType.STOP_LOSS: ("stop_loss", "sl_trigger_by"),
}


class TpSlMixin(BookkeepingMixin):
    def _set_position_tpsl(
        self,
        state: AccountState,
        book: Book,
        take_profit: Decimal | None,
        stop_loss: Decimal | None,
        tp_trigger_by: TriggerBy,
        sl_trigger_by: TriggerBy,
    ) -> Events:
        """Create, move or (with zero) remove the open position's TP/SL orders; updates the position.

        The caller reports the position afterwards.
        """
        symbol = book.instrument.symbol
        position = state.positions[symbol]
        if position.side is None:
            return []
        now = self._clock()
        events: Events = []
        changes: dict[str, object] = {}
        for kind, value, by in (
            (StopOrderType.TAKE_PROFIT, take_profit, tp_trigger_by),
            (StopOrderType.STOP_LOSS, stop_loss, sl_trigger_by),
        ):
            if value is None:
                continue
            price_field, by_field = _FIELDS[kind]
            existing_id = state.tpsl.get((symbol, kind))
            existing = self._orders.get(existing_id) if existing_id else None
            if value == 0:
                if existing is not None:
                    events.extend(self._cancel(existing, CancelReason.BY_USER))
                changes[price_field] = None
                continue
            rises = (kind is StopOrderType.TAKE_PROFIT) == (position.side is Side.BUY)
            direction = TriggerDirection.RISES_TO if rises else TriggerDirection.FALLS_TO
            if existing is not None:
                book.unindex(existing)
                order = attrs.evolve(
                    existing, trigger_price=value, trigger_by=by, trigger_direction=direction, updated_time=now
                )
                self._store(order, state, book)
                book.index(order, self._next_seq())
                events.append(OrderAmended(order))
            else:
                order = Order(
                    order_id=self._ids(),
                    account_id=state.account_id,
                    symbol=symbol,
                    side=position.side.opposite,
                    order_type=OrderType.MARKET,
                    qty=ZERO,
                    status=OrderStatus.UNTRIGGERED,
                    created_time=now,
                    updated_time=now,
                    time_in_force=TimeInForce.IOC,
                    reduce_only=True,
                    close_on_trigger=True,
                    trigger_price=value,
                    trigger_direction=direction,
                    trigger_by=by,
                    stop_order_type=kind,
                    create_type=_CREATED_BY[kind],
                    accepted_time=now,
                )
                self._store(order, state, book)
                book.index(order, self._next_seq())
                state.tpsl[(symbol, kind)] = order.order_id
                events.append(OrderAccepted(order))
            changes[price_field] = value
            changes[by_field] = by
        state.positions[symbol] = attrs.evolve(position, **changes, updated_time=now)  # type: ignore[arg-type]
        return events
