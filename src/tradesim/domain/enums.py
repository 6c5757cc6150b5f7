"""Enumerations, spelled as Bybit v5 spells them on the wire."""

from __future__ import annotations

from enum import IntEnum, StrEnum


class Category(StrEnum):
    LINEAR = "linear"
    SPOT = "spot"


class Side(StrEnum):
    BUY = "Buy"
    SELL = "Sell"

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY

    @property
    def sign(self) -> int:
        return 1 if self is Side.BUY else -1


class OrderType(StrEnum):
    MARKET = "Market"
    LIMIT = "Limit"


class TimeInForce(StrEnum):
    GTC = "GTC"
    IOC = "IOC"
    FOK = "FOK"
    POST_ONLY = "PostOnly"


class OrderStatus(StrEnum):
    NEW = "New"
    PARTIALLY_FILLED = "PartiallyFilled"
    FILLED = "Filled"
    CANCELLED = "Cancelled"
    REJECTED = "Rejected"
    UNTRIGGERED = "Untriggered"
    TRIGGERED = "Triggered"
    DEACTIVATED = "Deactivated"

    @property
    def is_terminal(self) -> bool:
        return self in _TERMINAL

    @property
    def is_open(self) -> bool:
        return self in _OPEN


_TERMINAL = frozenset({OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.REJECTED, OrderStatus.DEACTIVATED})
_OPEN = frozenset({OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED, OrderStatus.UNTRIGGERED})


class TriggerDirection(IntEnum):
    """Bybit's `triggerDirection`: 1 triggers when the price rises to the trigger, 2 when it falls to it."""

    RISES_TO = 1
    FALLS_TO = 2


class TriggerBy(StrEnum):
    LAST_PRICE = "LastPrice"
    MARK_PRICE = "MarkPrice"


class StopOrderType(StrEnum):
    """Why a conditional order exists: a plain stop, or a position's take-profit / stop-loss."""

    NONE = ""
    STOP = "Stop"
    TAKE_PROFIT = "TakeProfit"
    STOP_LOSS = "StopLoss"


class CreateType(StrEnum):
    """Who created the order (Bybit's `createType`, abridged)."""

    BY_USER = "CreateByUser"
    BY_TAKE_PROFIT = "CreateByTakeProfit"
    BY_STOP_LOSS = "CreateByStopLoss"
    BY_LIQUIDATION = "CreateByLiq"


class ExecType(StrEnum):
    TRADE = "Trade"
    BUST_TRADE = "BustTrade"


class MarginMode(StrEnum):
    CROSS = "REGULAR_MARGIN"
    ISOLATED = "ISOLATED_MARGIN"


class LedgerKind(StrEnum):
    """Every change to a balance is one of these; nothing else moves money."""

    TRANSFER = "Transfer"
    TRADE = "Trade"
    REALISED_PNL = "RealisedPnl"
    FEE = "Fee"
    FUNDING = "Funding"


class CancelReason(StrEnum):
    BY_USER = "CancelByUser"
    IOC_REMAINDER = "CancelByIoc"
    FOK_UNFILLABLE = "CancelByFok"
    POST_ONLY_WOULD_TAKE = "CancelByPostOnly"
    REDUCE_ONLY_NO_POSITION = "CancelByReduceOnly"
    POSITION_CLOSED = "CancelByTpSlTsClear"
    REPLACED = "CancelByAmend"
    LIQUIDATION = "CancelByLiq"
