"""The orders the engine makes itself: a position's take-profit and stop-loss, and the liquidation order.

Both are reduce-only IOC market orders, accepted the moment they are made.
"""

from __future__ import annotations

from decimal import Decimal

from tradesim.domain.enums import (
    CreateType,
    OrderStatus,
    OrderType,
    Side,
    StopOrderType,
    TimeInForce,
    TriggerBy,
    TriggerDirection,
)
from tradesim.domain.orders import Order


def engine_order(
    order_id: str,
    account_id: str,
    symbol: str,
    side: Side,
    qty: Decimal,
    now: int,
    create_type: CreateType,
    *,
    status: OrderStatus = OrderStatus.NEW,
    trigger_price: Decimal | None = None,
    trigger_direction: TriggerDirection | None = None,
    trigger_by: TriggerBy = TriggerBy.LAST_PRICE,
    stop_order_type: StopOrderType = StopOrderType.NONE,
) -> Order:
    """A reduce-only IOC market order made by the engine (conditional when `trigger_price` is given)."""
    return Order(
        order_id=order_id,
        account_id=account_id,
        symbol=symbol,
        side=side,
        order_type=OrderType.MARKET,
        qty=qty,
        status=status,
        created_time=now,
        updated_time=now,
        time_in_force=TimeInForce.IOC,
        reduce_only=True,
        close_on_trigger=trigger_price is not None,
        trigger_price=trigger_price,
        trigger_direction=trigger_direction,
        trigger_by=trigger_by,
        stop_order_type=stop_order_type,
        create_type=create_type,
        accepted_time=now,
    )
