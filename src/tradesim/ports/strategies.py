"""Running automated strategies over stored history."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Protocol

import attrs

from tradesim.domain.enums import Side
from tradesim.domain.market import Candle
from tradesim.domain.positions import Position


@attrs.frozen(slots=True)
class StrategyJob:
    """A backtest: `params` are the strategy's hyperparameters as given (the runner checks and types them)."""

    run_id: str
    strategy: str
    symbol: str
    start_ms: int
    end_ms: int
    starting_balance: Decimal
    params: dict[str, str] = attrs.field(factory=dict)
    timeframe: str = "1m"
    leverage: int = 1


@attrs.frozen(slots=True)
class StrategyTrade:
    """One round trip: opened when the position left zero, closed when it came back to zero."""

    symbol: str
    side: Side
    size: Decimal
    entry_price: Decimal
    opened_ms: int
    closed_ms: int
    pnl: Decimal
    r_multiple: Decimal | None = None
    exit_price: Decimal | None = None
    fee: Decimal = Decimal(0)


@attrs.frozen(slots=True)
class StrategyResult:
    run_id: str
    trades: list[StrategyTrade]
    metrics: dict[str, str]
    equity_curve: list[tuple[int, Decimal]]


Progress = Callable[[Decimal], None]
"""Told the fraction of the run done so far, from 0 to 1."""


class StrategyRunner(Protocol):
    async def run(self, job: StrategyJob, progress: Progress | None = None) -> StrategyResult:
        """Raises `NotFound` for an unknown strategy, `InvalidInput` for a bad job (no history, bad range)."""
        ...


class Trader(Protocol):
    """What an in-process strategy may do on each bar (orders fill through the matching engine)."""

    @property
    def position(self) -> Position | None: ...

    @property
    def balance(self) -> Decimal: ...

    def market(
        self, side: Side, qty: Decimal, *, stop_loss: Decimal | None = None, take_profit: Decimal | None = None
    ) -> None: ...

    def close(self) -> None:
        """Close the whole position at market (nothing when flat)."""
        ...


class BarStrategy(Protocol):
    """A strategy for the in-process runner: called once per bar, after the bar has played."""

    def on_bar(self, trader: Trader, candle: Candle) -> None: ...


StrategyFactory = Callable[[Mapping[str, str]], BarStrategy]
