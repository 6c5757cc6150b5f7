"""Commands the engine accepts. Plain data: the rules live in `order_rules` and the engine."""

from __future__ import annotations

from decimal import Decimal

import attrs

from tradesim.domain.enums import Category, MarginMode, OrderType, Side, TimeInForce, TriggerBy, TriggerDirection


@attrs.frozen(slots=True)
class PlaceOrder:
    """Bybit's `/v5/order/create` body, minus what one-way simulated trading does not need.

    `order_id` is assigned by whoever records the order first (the api); the engine makes one
    when it is left empty. `time_in_force` defaults to GTC for limit orders and IOC for market.
    """

    account_id: str
    symbol: str
    side: Side
    order_type: OrderType
    qty: Decimal
    price: Decimal | None = None
    time_in_force: TimeInForce | None = None
    category: Category = Category.LINEAR
    trigger_price: Decimal | None = None
    trigger_direction: TriggerDirection | None = None
    trigger_by: TriggerBy = TriggerBy.LAST_PRICE
    reduce_only: bool = False
    close_on_trigger: bool = False
    take_profit: Decimal | None = None
    stop_loss: Decimal | None = None
    tp_trigger_by: TriggerBy = TriggerBy.LAST_PRICE
    sl_trigger_by: TriggerBy = TriggerBy.LAST_PRICE
    order_link_id: str = ""
    order_id: str = ""


@attrs.frozen(slots=True)
class CancelOrder:
    account_id: str
    order_id: str
    symbol: str
    category: Category = Category.LINEAR
    command_id: str = ""


@attrs.frozen(slots=True)
class AmendOrder:
    """Change an open order; `None` leaves a field as it is."""

    account_id: str
    order_id: str
    symbol: str
    category: Category = Category.LINEAR
    qty: Decimal | None = None
    price: Decimal | None = None
    trigger_price: Decimal | None = None
    take_profit: Decimal | None = None
    stop_loss: Decimal | None = None
    command_id: str = ""


@attrs.frozen(slots=True)
class SetTradingStop:
    """Set or clear a position's take-profit / stop-loss. `None` keeps it, zero clears it (as Bybit)."""

    account_id: str
    symbol: str
    take_profit: Decimal | None = None
    stop_loss: Decimal | None = None
    tp_trigger_by: TriggerBy = TriggerBy.LAST_PRICE
    sl_trigger_by: TriggerBy = TriggerBy.LAST_PRICE
    command_id: str = ""


@attrs.frozen(slots=True)
class SetLeverage:
    account_id: str
    symbol: str
    leverage: Decimal
    margin_mode: MarginMode | None = None
    command_id: str = ""


@attrs.frozen(slots=True)
class Transfer:
    """Move money into (positive) or out of (negative) an account's wallet."""

    account_id: str
    amount: Decimal
    transfer_id: str
    coin: str = "USDT"


@attrs.frozen(slots=True)
class SettleFunding:
    """Settle funding on every open position of `symbol` at `rate` and `mark_price` (replays, tests).

    Each funding time settles once: a time at or before the last one settled (by this command or
    by a ticker) changes nothing.
    """

    symbol: str
    rate: Decimal
    mark_price: Decimal
    funding_time: int


RecordedCommand = CancelOrder | AmendOrder | SetTradingStop | SetLeverage
"""Commands a trader is answered for before an engine applies them, other than orders.

Whoever records one before queueing it (the api, in `pending_commands`) gives it a `command_id`;
the engine ignores the id, and a command nobody recorded keeps it empty. (A `PlaceOrder` needs
no separate record: the order it places is recorded.)
"""

Command = PlaceOrder | CancelOrder | AmendOrder | SetTradingStop | SetLeverage | Transfer | SettleFunding
