"""The strategy catalogue and strategy backtest runs (DESIGN §9)."""

from __future__ import annotations

import builtins
from typing import Annotated, Any, Literal

import attrs
import msgspec

from tradesim.entrypoints.http.schemas.common import Decimal, EpochMs, Limit, SignedDecimal, Symbol

StrategyName = Annotated[str, msgspec.Meta(min_length=1, max_length=100, examples=["SmaCross"])]
Timeframe = Annotated[
    str, msgspec.Meta(min_length=1, max_length=8, description="1m, 5m, 15m, 30m, 1h, 4h or 1D", examples=["1h"])
]
HyperparameterValue = Annotated[
    str | int | float | bool, msgspec.Meta(description="typed as the strategy declares it (a string is converted)")
]
RunStatusName = Literal["queued", "running", "finished", "failed", "cancelled"]


@attrs.frozen
class HyperparameterOut:
    """`min`/`max` for numbers, `options` for a categorical one."""

    name: str
    type: Literal["int", "float", "bool", "categorical"]
    default: Any = None
    min: int | float | None = None
    max: int | float | None = None
    options: builtins.list[Any] | None = None


@attrs.frozen
class StrategyOut:
    """A strategy the workers can run; `error` says why one that failed to load cannot."""

    name: str
    source: Literal["builtin", "dir"]
    timeframes: builtins.list[str]
    hyperparameters: builtins.list[HyperparameterOut]
    error: str | None = None


@attrs.frozen
class StrategyList:
    list: builtins.list[StrategyOut]


@attrs.frozen
class StrategyRunCreate:
    """A backtest of `strategy` on `symbol`'s stored 1m history from `start` to `end` (epoch ms, end exclusive),
    deciding on closed `timeframe` bars, on an account of `startingBalance` USDT (default 10000) at `leverage`
    (default 1)."""

    strategy: StrategyName
    symbol: Symbol
    timeframe: Timeframe
    start: EpochMs
    end: EpochMs
    startingBalance: Decimal | None = None
    leverage: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 1
    hyperparameters: dict[str, HyperparameterValue] | None = None


@attrs.frozen
class StrategyRunQuery:
    limit: Limit = 100


@attrs.frozen
class RoundTripOut:
    """One round trip: `side` Buy (long) or Sell (short)."""

    side: str
    qty: str
    entryPrice: str
    exitPrice: str
    openedTime: int
    closedTime: int
    pnl: SignedDecimal
    fee: str


@attrs.frozen
class StrategyRunOut:
    """A run. `progress` from "0" to "1"; `error` why it failed. A finished run has `metrics` (Jesse's names,
    decimal strings), `trades` (round trips) and `equityCurve` (`[time, equity]` pairs)."""

    runId: str
    strategy: str
    symbol: str
    timeframe: str
    start: int
    end: int
    startingBalance: str
    leverage: int
    hyperparameters: dict[str, Any]
    status: RunStatusName
    progress: str
    createdTime: int
    updatedTime: int
    error: str | None = None
    metrics: dict[str, str] | None = None
    trades: builtins.list[RoundTripOut] | None = None
    equityCurve: builtins.list[tuple[int, str]] | None = None


@attrs.frozen
class StrategyRunList:
    list: builtins.list[StrategyRunOut]
