"""Deterministic synthetic market data for the benchmarks: instruments and a random-walk year of 1m bars.

Prices are generated as integers counted in ticks (no floats anywhere) and become `Decimal`
only on the instrument's tick grid. The same integer bars feed both the tradesim engine and
Jesse (which gets them as a float numpy array, in its own process).
"""

from __future__ import annotations

import random
from decimal import Decimal

import attrs

from tradesim.domain import Category, Instrument, InstrumentCatalog

MINUTE_MS = 60_000
#: 2023-01-01T00:00:00Z: the replayed year starts here; warm-up bars sit just before it.
YEAR_START_MS = 1_672_531_200_000
BARS_PER_YEAR = 525_600
#: One bar in this many is a 2%-4% shock, so that 2% stop-losses do get hit now and then.
JUMP_ODDS = 2_000

#: Ten synthetic USDT linear perpetuals: (symbol, tick size, qty step, order qty used by the benchmark).
#: Every centre price is 1,000,000 ticks, so the tick sizes give prices from 100 to 1,000,000 USDT.
SYNTHETIC_SPECS: tuple[tuple[str, str, str, str], ...] = (
    ("SYNAUSDT", "0.01", "0.001", "0.010"),
    ("SYNBUSDT", "0.1", "0.001", "0.001"),
    ("SYNCUSDT", "0.001", "0.01", "0.10"),
    ("SYNDUSDT", "0.0001", "0.1", "1.0"),
    ("SYNEUSDT", "0.5", "0.001", "0.001"),
    ("SYNFUSDT", "0.01", "0.01", "0.01"),
    ("SYNGUSDT", "0.05", "0.001", "0.002"),
    ("SYNHUSDT", "1", "0.0001", "0.0010"),
    ("SYNIUSDT", "0.001", "0.1", "0.2"),
    ("SYNJUSDT", "0.02", "0.001", "0.005"),
)


def synthetic_instrument(symbol: str, tick: str, qty_step: str) -> Instrument:
    """A linear perpetual with Bybit's default fees and risk parameters on the given grid."""
    return Instrument(
        symbol=symbol,
        category=Category.LINEAR,
        base_coin=symbol.removesuffix("USDT"),
        quote_coin="USDT",
        tick_size=tick,
        min_price=tick,
        max_price=Decimal(tick) * 100_000_000,
        qty_step=qty_step,
        min_order_qty=qty_step,
        max_order_qty=Decimal(qty_step) * 100_000_000,
        max_market_order_qty=Decimal(qty_step) * 100_000_000,
        min_notional="5",
        max_leverage="100",
        maker_fee_rate="0.0002",
        taker_fee_rate="0.00055",
        maintenance_margin_rate="0.005",
    )


def synthetic_catalog() -> InstrumentCatalog:
    """The ten instruments of `SYNTHETIC_SPECS`."""
    return InstrumentCatalog(synthetic_instrument(symbol, tick, step) for symbol, tick, step, _ in SYNTHETIC_SPECS)


@attrs.frozen
class IntBars:
    """Bars as parallel integer columns: open time (ms), OHLC in ticks, volume in whole units."""

    open_time: list[int]
    open: list[int]
    high: list[int]
    low: list[int]
    close: list[int]
    volume: list[int]

    def __len__(self) -> int:
        return len(self.open_time)

    def rows(self, start: int = 0, stop: int | None = None) -> list[tuple[int, int, int, int, int, int]]:
        """(open time, open, high, low, close, volume) per bar, for bars `start` up to `stop`."""
        columns = (self.open_time, self.open, self.high, self.low, self.close, self.volume)
        return list(zip(*(column[start:stop] for column in columns), strict=True))


def random_walk_bars(count: int, *, seed: int, start_ms: int, start_ticks: int = 300_000) -> IntBars:
    """`count` contiguous 1m bars of an integer random walk (open = previous close, wicks around the body).

    Steps are uniform within +-0.05% of the price per minute (about 20% volatility a year), one bar
    in `JUMP_ODDS` jumps 2% to 4% up or down, and the walk reflects off a floor at a tenth of the
    start price, so every price stays positive.
    """
    rng = random.Random(seed)
    randint = rng.randint
    floor = start_ticks // 10
    times = list(range(start_ms, start_ms + count * MINUTE_MS, MINUTE_MS))
    opens: list[int] = []
    highs: list[int] = []
    lows: list[int] = []
    closes: list[int] = []
    volumes: list[int] = []
    price = start_ticks
    for _ in range(count):
        span = max(price // 2000, 2)
        if randint(1, JUMP_ODDS) == 1:  # a shock: the bar moves 2% to 4% at once
            close = price + randint(price // 50, price // 25) * (1 if randint(0, 1) else -1)
        else:
            close = price + randint(-span, span)
        if close < floor:
            close = 2 * floor - close
        opens.append(price)
        highs.append(max(price, close) + randint(0, span // 2))
        lows.append(min(price, close) - randint(0, span // 2))
        closes.append(close)
        volumes.append(randint(1, 1_000))
        price = close
    return IntBars(times, opens, highs, lows, closes, volumes)
