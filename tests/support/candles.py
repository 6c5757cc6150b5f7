"""Candles for tests: a seeded random walk on the tick grid, and the real Bybit day in ../shared/data."""

from __future__ import annotations

import csv
import random
from decimal import Decimal
from pathlib import Path

from tradesim.domain.market import Candle

MINUTE = 60_000


def walk(
    symbol: str, start_ms: int, count: int, *, seed: int = 7, price: str = "30000.0", tick: str = "0.1"
) -> list[Candle]:
    """`count` consecutive 1m candles from `start_ms`, every price a multiple of `tick`."""
    rng = random.Random(seed)
    step = Decimal(tick)
    units = int(Decimal(price) / step)
    candles = []
    for i in range(count):
        open_units = units
        units = max(10, units + rng.randint(-30, 30))
        high = max(open_units, units) + rng.randint(0, 10)
        low = min(open_units, units) - rng.randint(0, 10)
        candles.append(
            Candle(
                symbol=symbol,
                open_time=start_ms + i * MINUTE,
                open=open_units * step,
                high=high * step,
                low=low * step,
                close=units * step,
                volume=Decimal(rng.randint(0, 500_000)).scaleb(-3),
                turnover=Decimal(rng.randint(0, 10**9)).scaleb(-4),
            )
        )
    return candles


def bybit_csv_day(path: Path, symbol: str = "BTCUSDT") -> list[Candle]:
    """The derived Lean CSV (`timestamp_ms,open,high,low,close,volume`), values kept as written."""
    with path.open(newline="") as handle:
        return [
            Candle(
                symbol=symbol,
                open_time=int(row["timestamp_ms"]),
                open=Decimal(row["open"]),
                high=Decimal(row["high"]),
                low=Decimal(row["low"]),
                close=Decimal(row["close"]),
                volume=Decimal(row["volume"]),
            )
            for row in csv.DictReader(handle)
        ]
