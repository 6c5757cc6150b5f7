"""Orders, as Bybit v5's /v5/order/create and realtime order records."""

from __future__ import annotations

import builtins
from typing import Annotated, Literal

import attrs
import msgspec

from tradesim.entrypoints.http.schemas.common import END, Decimal, ErrorDetail, Id, Limit, SignedDecimal, Symbol

OrderLinkId = Annotated[
    str, msgspec.Meta(pattern=r"^[A-Za-z0-9_-]{1,36}" + END, description="your id, unique per account")
]
TriggerByName = Literal["LastPrice", "MarkPrice"]


@attrs.frozen
class OrderCreate:
    """A new order. `timeInForce` defaults to GTC for Limit orders; Market orders are always IOC.
    A conditional order has `triggerPrice` and `triggerDirection` (1: rises to, 2: falls to)."""

    accountId: Id
    symbol: Symbol
    side: Literal["Buy", "Sell"]
    orderType: Literal["Market", "Limit"]
    qty: Decimal
    category: Literal["linear", "spot"] = "linear"
    price: Decimal | None = None
    timeInForce: Literal["GTC", "IOC", "FOK", "PostOnly"] | None = None
    triggerPrice: Decimal | None = None
    triggerDirection: Literal[1, 2] | None = None
    triggerBy: TriggerByName = "LastPrice"
    reduceOnly: bool = False
    closeOnTrigger: bool = False
    takeProfit: Decimal | None = None
    stopLoss: Decimal | None = None
    tpTriggerBy: TriggerByName = "LastPrice"
    slTriggerBy: TriggerByName = "LastPrice"
    orderLinkId: OrderLinkId | None = None


@attrs.frozen
class OrderAmend:
    """Fields to change on an open order; absent fields stay. `takeProfit`/`stopLoss` of "0" remove them."""

    qty: Decimal | None = None
    price: Decimal | None = None
    triggerPrice: Decimal | None = None
    takeProfit: Decimal | None = None
    stopLoss: Decimal | None = None


@attrs.frozen
class OrderQuery:
    accountId: Id
    openOnly: bool = False
    limit: Limit = 100


@attrs.frozen
class OrderOut:
    """An order as Bybit reports it. Absent prices are empty strings; `triggerDirection` 0 when none."""

    orderId: str
    orderLinkId: str
    accountId: str
    category: str
    symbol: str
    side: str
    orderType: str
    price: SignedDecimal
    qty: SignedDecimal
    timeInForce: str
    orderStatus: str
    triggerPrice: SignedDecimal
    triggerDirection: int
    triggerBy: str
    reduceOnly: bool
    closeOnTrigger: bool
    takeProfit: SignedDecimal
    stopLoss: SignedDecimal
    tpTriggerBy: str
    slTriggerBy: str
    stopOrderType: str
    createType: str
    cumExecQty: SignedDecimal
    cumExecValue: SignedDecimal
    cumExecFee: SignedDecimal
    avgPrice: SignedDecimal
    leavesQty: SignedDecimal
    rejectReason: str
    cancelType: str
    createdTime: int
    updatedTime: int


@attrs.frozen
class OrderList:
    list: builtins.list[OrderOut]


@attrs.frozen
class CommandRejectedOut:
    """A command answered 202 that the engine then refused (the order had filled meanwhile, an
    amend breaks a rule at the new price...); nothing changed. The `commandRejected` push."""

    accountId: str
    command: Annotated[str, msgspec.Meta(description="cancel, amend, trading-stop, set-leverage or transfer")]
    orderId: Annotated[str, msgspec.Meta(description="the order a cancel or amend named; empty for the others")]
    error: ErrorDetail
