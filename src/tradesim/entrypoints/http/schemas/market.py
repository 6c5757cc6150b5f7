"""Instruments, tickers and candles."""

from __future__ import annotations

import builtins
from typing import Literal

import attrs

from tradesim.entrypoints.http.schemas.common import EpochMs, SignedDecimal, Symbol

Interval = Literal["1m", "3m", "5m", "15m", "1h"]


@attrs.frozen
class InstrumentQuery:
    category: Literal["linear", "spot"] | None = None


@attrs.frozen
class InstrumentOut:
    category: str
    symbol: str
    baseCoin: str
    quoteCoin: str
    tickSize: str
    minPrice: str
    maxPrice: str
    qtyStep: str
    minOrderQty: str
    maxOrderQty: str
    maxMktOrderQty: str
    minNotionalValue: str
    maxLeverage: str
    makerFeeRate: str
    takerFeeRate: str
    maintenanceMarginRate: str
    fundingIntervalMinutes: int


@attrs.frozen
class InstrumentList:
    list: builtins.list[InstrumentOut]


@attrs.frozen
class TickerOut:
    symbol: str
    lastPrice: SignedDecimal
    bid1Price: SignedDecimal
    ask1Price: SignedDecimal
    markPrice: SignedDecimal
    bid1Size: SignedDecimal
    ask1Size: SignedDecimal
    fundingRate: SignedDecimal
    nextFundingTime: int
    ts: int


@attrs.frozen
class CandleQuery:
    symbol: Symbol
    start: EpochMs
    end: EpochMs
    interval: Interval = "1m"


@attrs.frozen
class CandleOut:
    """One bar, shaped like Bybit's kline push: `start`/`end` bound the bar, `confirm` once it is closed."""

    start: int
    end: int
    interval: str
    open: SignedDecimal
    high: SignedDecimal
    low: SignedDecimal
    close: SignedDecimal
    volume: SignedDecimal
    turnover: SignedDecimal
    confirm: bool


@attrs.frozen
class CandleList:
    symbol: str
    interval: str
    list: builtins.list[CandleOut]
