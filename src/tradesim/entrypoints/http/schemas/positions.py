"""Positions, fills and the ledger."""

from __future__ import annotations

import builtins
from typing import Literal

import attrs

from tradesim.entrypoints.http.schemas.common import Decimal, Id, SignedDecimal, Symbol

TriggerByName = Literal["LastPrice", "MarkPrice"]


@attrs.frozen
class PositionQuery:
    accountId: Id


@attrs.frozen
class PositionOut:
    """`side` is empty when flat; `tradeMode` 0 is cross margin, 1 isolated."""

    accountId: str
    symbol: str
    side: str
    size: SignedDecimal
    avgPrice: SignedDecimal
    positionValue: SignedDecimal
    markPrice: SignedDecimal
    unrealisedPnl: SignedDecimal
    cumRealisedPnl: SignedDecimal
    leverage: SignedDecimal
    tradeMode: int
    positionIM: SignedDecimal
    liqPrice: SignedDecimal
    bustPrice: SignedDecimal
    takeProfit: SignedDecimal
    stopLoss: SignedDecimal
    tpTriggerBy: str
    slTriggerBy: str
    createdTime: int
    updatedTime: int


@attrs.frozen
class PositionList:
    list: builtins.list[PositionOut]


@attrs.frozen
class TradingStopIn:
    """Set the open position's take-profit / stop-loss; "0" removes one, an absent field keeps it."""

    accountId: Id
    symbol: Symbol
    takeProfit: Decimal | None = None
    stopLoss: Decimal | None = None
    tpTriggerBy: TriggerByName = "LastPrice"
    slTriggerBy: TriggerByName = "LastPrice"


@attrs.frozen
class LeverageIn:
    accountId: Id
    symbol: Symbol
    leverage: Decimal
    tradeMode: Literal[0, 1] | None = None


@attrs.frozen
class CommandQueued:
    """The command is queued for the engine; its outcome arrives on the WebSocket (`position`, `order`)."""

    accountId: str
    symbol: str
    status: str = "queued"


@attrs.frozen
class ExecutionOut:
    execId: str
    orderId: str
    orderLinkId: str
    accountId: str
    category: str
    symbol: str
    side: str
    orderType: str
    execType: str
    execPrice: SignedDecimal
    execQty: SignedDecimal
    execValue: SignedDecimal
    execFee: SignedDecimal
    feeRate: SignedDecimal
    feeCurrency: str
    isMaker: bool
    closedSize: SignedDecimal
    execPnl: SignedDecimal
    execTime: int


@attrs.frozen
class ExecutionList:
    list: builtins.list[ExecutionOut]


@attrs.frozen
class LedgerOut:
    """One balance change: `change` added to the `coin` balance, leaving `cashBalance`."""

    entryId: str
    accountId: str
    coin: str
    type: str
    change: SignedDecimal
    cashBalance: SignedDecimal
    refId: str
    symbol: str
    transactionTime: int


@attrs.frozen
class LedgerList:
    list: builtins.list[LedgerOut]
