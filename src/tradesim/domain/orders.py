"""Orders and their state machine (Bybit v5 statuses).

One table says which status may follow which; `Order.transition` is the only way to change
status, and an edge the table lacks raises `InvalidOrderTransition` rather than being ignored.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

import attrs

from tradesim.domain.enums import (
    CancelReason,
    Category,
    CreateType,
    OrderStatus,
    OrderType,
    Side,
    StopOrderType,
    TimeInForce,
    TriggerBy,
    TriggerDirection,
)
from tradesim.domain.errors import InvalidOrderTransition
from tradesim.domain.numbers import ZERO

S = OrderStatus

#: Allowed next statuses; `None` is "the order does not exist yet".
#: New -> Rejected and Untriggered -> Rejected exist because the api records an order before the
#: engine has checked margin; the engine may then refuse it. Triggered is the moment a
#: conditional order becomes an active one.
TRANSITIONS: Final[dict[OrderStatus | None, frozenset[OrderStatus]]] = {
    None: frozenset({S.NEW, S.UNTRIGGERED, S.REJECTED}),
    S.NEW: frozenset({S.PARTIALLY_FILLED, S.FILLED, S.CANCELLED, S.REJECTED}),
    S.PARTIALLY_FILLED: frozenset({S.PARTIALLY_FILLED, S.FILLED, S.CANCELLED}),
    S.UNTRIGGERED: frozenset({S.TRIGGERED, S.DEACTIVATED, S.REJECTED}),
    S.TRIGGERED: frozenset({S.NEW, S.PARTIALLY_FILLED, S.FILLED, S.CANCELLED, S.REJECTED}),
    S.FILLED: frozenset(),
    S.CANCELLED: frozenset(),
    S.REJECTED: frozenset(),
    S.DEACTIVATED: frozenset(),
}


def check_transition(current: OrderStatus | None, target: OrderStatus) -> None:
    """Raises `InvalidOrderTransition` when the table has no edge `current -> target`."""
    if target not in TRANSITIONS[current]:
        name = current.value if current is not None else "(none)"
        raise InvalidOrderTransition(f"order status cannot move from {name} to {target.value}")


@attrs.frozen(slots=True)
class Order:
    """An order as the exchange keeps it. Immutable: every change returns a new `Order`.

    `qty` of zero is used only by a position's full-size take-profit / stop-loss, which closes
    whatever the position holds when it triggers.
    """

    order_id: str
    account_id: str
    symbol: str
    side: Side
    order_type: OrderType
    qty: Decimal
    status: OrderStatus
    created_time: int
    updated_time: int
    category: Category = Category.LINEAR
    price: Decimal | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    order_link_id: str = ""
    reduce_only: bool = False
    close_on_trigger: bool = False
    trigger_price: Decimal | None = None
    trigger_direction: TriggerDirection | None = None
    trigger_by: TriggerBy = TriggerBy.LAST_PRICE
    take_profit: Decimal | None = None
    stop_loss: Decimal | None = None
    tp_trigger_by: TriggerBy = TriggerBy.LAST_PRICE
    sl_trigger_by: TriggerBy = TriggerBy.LAST_PRICE
    stop_order_type: StopOrderType = StopOrderType.NONE
    create_type: CreateType = CreateType.BY_USER
    cum_exec_qty: Decimal = ZERO
    cum_exec_value: Decimal = ZERO
    cum_exec_fee: Decimal = ZERO
    reject_reason: str = ""
    reject_message: str = ""
    cancel_type: str = ""
    #: When the engine took the order in (0 until then): an order recorded by the api but not yet
    #: seen by the engine is still waiting in the queue, and a restart must not treat it as resting.
    accepted_time: int = 0

    @property
    def leaves_qty(self) -> Decimal:
        """Bybit's `leavesQty`: what is still working, zero once the order is closed."""
        return self.qty - self.cum_exec_qty if self.status.is_open else ZERO

    @property
    def remaining_qty(self) -> Decimal:
        """Unfilled quantity whatever the status (a just-triggered order has not opened yet)."""
        return self.qty - self.cum_exec_qty

    @property
    def avg_price(self) -> Decimal | None:
        if not self.cum_exec_qty:
            return None
        return self.cum_exec_value / self.cum_exec_qty

    @property
    def is_conditional(self) -> bool:
        return self.trigger_price is not None

    @property
    def is_position_tpsl(self) -> bool:
        return self.stop_order_type in (StopOrderType.TAKE_PROFIT, StopOrderType.STOP_LOSS)

    def transition(self, target: OrderStatus, ts: int) -> Order:
        check_transition(self.status, target)
        return attrs.evolve(self, status=target, updated_time=ts)

    def with_fill(self, qty: Decimal, price: Decimal, fee: Decimal, ts: int) -> Order:
        """The order after an execution of `qty` at `price`; status follows from what is left."""
        cum_qty = self.cum_exec_qty + qty
        target = S.FILLED if cum_qty >= self.qty else S.PARTIALLY_FILLED
        check_transition(self.status, target)
        return attrs.evolve(
            self,
            status=target,
            updated_time=ts,
            cum_exec_qty=cum_qty,
            cum_exec_value=self.cum_exec_value + qty * price,
            cum_exec_fee=self.cum_exec_fee + fee,
        )

    def cancelled(self, reason: CancelReason, ts: int) -> Order:
        target = S.DEACTIVATED if self.status is S.UNTRIGGERED else S.CANCELLED
        check_transition(self.status, target)
        return attrs.evolve(self, status=target, updated_time=ts, cancel_type=reason.value)

    def rejected(self, code: str, message: str, ts: int) -> Order:
        check_transition(self.status, S.REJECTED)
        return attrs.evolve(self, status=S.REJECTED, updated_time=ts, reject_reason=code, reject_message=message)
