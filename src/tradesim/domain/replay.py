"""Bar Replay's rules: how a candle becomes ticks, and a clock that replay time drives.

A 1m bar becomes four ticks: open, then the two extremes, then close. Which extreme comes
first is fixed by the bar's colour: a bullish bar (close >= open) is taken to have visited its
low before its high (open -> low -> high -> close); a bearish bar its high before its low
(open -> high -> low -> close). So when one bar touches both a position's stop-loss and its
take-profit, the outcome is always the same: in a bullish bar a long's stop-loss (below) is
hit before its take-profit (above), in a bearish bar a short's stop-loss (above) first.

The ticks sit at 0, 1/4, 1/2 of the bar and its last millisecond, and carry no spread:
bid = ask = mark = last, so replayed market orders fill at the path price itself.
"""

from __future__ import annotations

from decimal import Decimal

from tradesim.domain.market import INTERVAL_MS, Candle, Ticker


def bar_path(candle: Candle) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    """The four prices a bar is replayed through, in order."""
    if candle.close >= candle.open:
        return candle.open, candle.low, candle.high, candle.close
    return candle.open, candle.high, candle.low, candle.close


def bar_ticks(candle: Candle) -> list[Ticker]:
    """The bar as four zero-spread tickers (see the module docstring for times and order)."""
    start = candle.open_time
    span = INTERVAL_MS[candle.interval]
    symbol, category = candle.symbol, candle.category
    first, second, third, last = bar_path(candle)
    # Positional arguments: a replay builds four of these per bar, and keywords cost more.
    return [
        Ticker(symbol, first, first, first, first, start, category),
        Ticker(symbol, second, second, second, second, start + span // 4, category),
        Ticker(symbol, third, third, third, third, start + span // 2, category),
        Ticker(symbol, last, last, last, last, start + span - 1, category),  # the bar's close_time
    ]


class ManualClock:
    """A clock that moves only when told: replay time, and deterministic tests."""

    __slots__ = ("now",)

    def __init__(self, start: int = 0) -> None:
        self.now = start

    def __call__(self) -> int:
        return self.now

    def set(self, ts: int) -> None:
        self.now = ts

    def advance(self, ms: int) -> None:
        self.now += ms
