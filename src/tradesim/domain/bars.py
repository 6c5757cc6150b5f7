"""A UTC day of 1m bars held as columns of scaled integers: how Bar Replay keeps history in memory.

A year of 1m bars is 525,600 candles; building that many `Candle` objects (each with five
`Decimal`s) takes seconds. A `DayBars` instead holds six integer columns (any sequence of
ints: an `array`, or a `memoryview` straight over a Parquet reader's buffer) and makes a
`Candle` only for the bar being played. Prices are integers in units of ``10**-price_scale``
and volumes in units of ``10**-volume_scale``, so the values stay exact.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import attrs

from tradesim.domain.enums import Category
from tradesim.domain.errors import InvalidInput
from tradesim.domain.market import INTERVAL_MS, Candle

DAY_MS = 86_400_000
MINUTE_MS = 60_000
BARS_PER_DAY = DAY_MS // MINUTE_MS


def day_start_ms(day: date) -> int:
    """Epoch ms of 00:00 UTC on `day`."""
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) * 1000


def day_of(ms: int) -> date:
    """The UTC day an epoch-ms instant falls on."""
    return date(1970, 1, 1) + timedelta(days=ms // DAY_MS)


def scale_of(value: Decimal) -> int:
    """How many fractional digits `value` is written with (``30000.10`` -> 2, ``5E+1`` -> 0)."""
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int), "only finite decimals have a scale"
    return max(0, -exponent)


def to_units(value: Decimal, scale: int) -> int:
    """`value` as an integer count of ``10**-scale``; exact (raises if it would round)."""
    scaled = value.scaleb(scale)
    units = int(scaled)
    if units != scaled:
        raise InvalidInput(f"{value} does not fit {scale} decimal places")
    return units


def from_units(units: int, scale: int) -> Decimal:
    return Decimal(units).scaleb(-scale)


def check_day_candles(symbol: str, day: date, candles: Iterable[Candle]) -> None:
    """Raises `InvalidInput` unless every candle is `symbol`'s, opens on `day` (UTC), and no two share a time."""
    start = day_start_ms(day)
    seen: set[int] = set()
    for c in candles:
        if c.symbol != symbol or not start <= c.open_time < start + DAY_MS:
            raise InvalidInput(f"candle {c.symbol} at {c.open_time} does not belong to {symbol} on {day}")
        if c.open_time in seen:
            raise InvalidInput(f"two {symbol} candles open at {c.open_time}")
        seen.add(c.open_time)


def missing_minutes(day: date, open_times: Iterable[int]) -> list[tuple[int, int]]:
    """The minutes of `day` with no bar, as ``(first_open_ms, last_open_ms)`` runs."""
    start = day_start_ms(day)
    present = set(open_times)
    runs: list[tuple[int, int]] = []
    run_start: int | None = None
    for minute in range(BARS_PER_DAY):
        t = start + minute * MINUTE_MS
        if t in present:
            if run_start is not None:
                runs.append((run_start, t - MINUTE_MS))
                run_start = None
        elif run_start is None:
            run_start = t
    if run_start is not None:
        runs.append((run_start, start + DAY_MS - MINUTE_MS))
    return runs


@attrs.frozen(slots=True, eq=False)
class DayBars:
    """One symbol's bars of one UTC day, ascending by `open_time`, as integer columns."""

    symbol: str
    day: date
    open_time: Sequence[int]
    open: Sequence[int]
    high: Sequence[int]
    low: Sequence[int]
    close: Sequence[int]
    volume: Sequence[int]
    price_scale: int
    volume_scale: int
    category: Category = Category.LINEAR
    interval: str = "1m"

    def __attrs_post_init__(self) -> None:
        n = len(self.open_time)
        if any(len(c) != n for c in (self.open, self.high, self.low, self.close, self.volume)):
            raise InvalidInput(f"{self.symbol} {self.day}: bar columns differ in length")

    def __len__(self) -> int:
        return len(self.open_time)

    @property
    def nbytes(self) -> int:
        """Roughly what the columns occupy (six 8-byte integers per bar), for cache accounting."""
        return 48 * len(self.open_time) + 256

    def candle(self, i: int) -> Candle:
        """Bar `i` as a `Candle` with exact decimals (made on demand, never stored)."""
        ps = self.price_scale
        return Candle(
            symbol=self.symbol,
            open_time=self.open_time[i],
            open=Decimal(self.open[i]).scaleb(-ps),
            high=Decimal(self.high[i]).scaleb(-ps),
            low=Decimal(self.low[i]).scaleb(-ps),
            close=Decimal(self.close[i]).scaleb(-ps),
            volume=Decimal(self.volume[i]).scaleb(-self.volume_scale),
            interval=self.interval,
            category=self.category,
        )

    def candles(self) -> list[Candle]:
        return [self.candle(i) for i in range(len(self))]

    def index_from(self, ms: int) -> int:
        """Index of the first bar opening at or after `ms` (``len(self)`` when none does)."""
        return bisect_left(self.open_time, ms)

    @classmethod
    def from_candles(cls, symbol: str, day: date, candles: Sequence[Candle], *, min_price_scale: int = 0) -> DayBars:
        """Columns of `candles` (sorted here), at the smallest scales that keep every value exact."""
        ordered = sorted(candles, key=lambda c: c.open_time)
        prices = (p for c in ordered for p in (c.open, c.high, c.low, c.close))
        ps = max([min_price_scale, *(scale_of(p) for p in prices)])
        vs = max([0, *(scale_of(c.volume) for c in ordered)])
        category = ordered[0].category if ordered else Category.LINEAR
        interval = ordered[0].interval if ordered else "1m"
        if interval not in INTERVAL_MS:  # pragma: no cover - Candle already refuses these
            raise InvalidInput(f"unsupported interval {interval!r}")
        return cls(
            symbol=symbol,
            day=day,
            open_time=_ints([c.open_time for c in ordered]),
            open=_ints([to_units(c.open, ps) for c in ordered]),
            high=_ints([to_units(c.high, ps) for c in ordered]),
            low=_ints([to_units(c.low, ps) for c in ordered]),
            close=_ints([to_units(c.close, ps) for c in ordered]),
            volume=_ints([to_units(c.volume, vs) for c in ordered]),
            price_scale=ps,
            volume_scale=vs,
            category=category,
            interval=interval,
        )


def _ints(values: list[int]) -> Sequence[int]:
    """A compact int64 array, or the plain list when a value does not fit 64 bits (kept exact)."""
    try:
        return array("q", values)
    except OverflowError:
        return values
