"""The columnar day of bars: exact round trips, scales, and the minutes a day lacks."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import attrs
import pytest

from tradesim.domain.bars import (
    DayBars,
    check_day_candles,
    day_of,
    day_start_ms,
    missing_minutes,
    scale_of,
    to_units,
)
from tradesim.domain.errors import InvalidInput
from tradesim.domain.market import Candle

DAY = date(2024, 3, 1)
START = day_start_ms(DAY)


def candle(minute: int, close: str = "61000.5", volume: str = "1.234") -> Candle:
    return Candle(
        symbol="BTCUSDT",
        open_time=START + minute * 60_000,
        open=Decimal("61000.10"),
        high=Decimal("61010"),
        low=Decimal("60990.9"),
        close=Decimal(close),
        volume=Decimal(volume),
    )


def test_day_bounds_are_utc() -> None:
    assert START == 1_709_251_200_000
    assert day_of(START) == DAY
    assert day_of(START - 1) == date(2024, 2, 29)
    assert day_of(START + 86_399_999) == DAY


def test_scales_and_units_are_exact() -> None:
    assert [scale_of(Decimal(s)) for s in ("30000.10", "30000", "5E+1", "0.001")] == [2, 0, 0, 3]
    assert to_units(Decimal("30000.1"), 2) == 3_000_010
    with pytest.raises(InvalidInput):
        to_units(Decimal("30000.125"), 2)


def test_from_candles_keeps_every_value_and_sorts() -> None:
    candles = [candle(2, close="61000.25"), candle(0), candle(1, volume="0.5")]
    bars = DayBars.from_candles("BTCUSDT", DAY, candles, min_price_scale=1)
    assert (bars.price_scale, bars.volume_scale, len(bars)) == (2, 3, 3)
    assert list(bars.open_time) == [START, START + 60_000, START + 120_000]
    assert [bars.candle(i) for i in range(3)] == sorted(candles, key=lambda c: c.open_time)
    assert str(bars.candle(0).open) == "61000.10"
    assert bars.index_from(START + 1) == 1
    assert bars.index_from(START + 10 * 60_000) == 3
    assert bars.nbytes > 3 * 48


def test_columns_of_different_lengths_are_refused() -> None:
    bars = DayBars.from_candles("BTCUSDT", DAY, [candle(0)])
    with pytest.raises(InvalidInput):
        attrs.evolve(bars, close=[1, 2])


def test_missing_minutes_are_reported_as_runs() -> None:
    present = [START + m * 60_000 for m in range(1440) if m not in (0, 1, 700, 1439)]
    assert missing_minutes(DAY, present) == [
        (START, START + 60_000),
        (START + 700 * 60_000, START + 700 * 60_000),
        (START + 1439 * 60_000, START + 1439 * 60_000),
    ]
    assert missing_minutes(DAY, [START + m * 60_000 for m in range(1440)]) == []
    assert missing_minutes(DAY, []) == [(START, START + 1439 * 60_000)]


def test_check_day_candles() -> None:
    check_day_candles("BTCUSDT", DAY, [candle(0), candle(1439)])
    with pytest.raises(InvalidInput, match="does not belong"):
        check_day_candles("BTCUSDT", DAY, [candle(1440)])
    with pytest.raises(InvalidInput, match="two BTCUSDT candles"):
        check_day_candles("BTCUSDT", DAY, [candle(3), candle(3)])
