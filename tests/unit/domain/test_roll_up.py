"""1m bars rolled up into a coarser interval: what `/v5/market/kline` answers a replay's bot."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tradesim.domain.errors import InvalidInput
from tradesim.domain.market import Candle, roll_up

T = 1_700_000_100_000 - 1_700_000_100_000 % 300_000  # a 5m boundary


def minute(i: int, o: str, h: str, low: str, c: str, v: str = "1") -> Candle:
    return Candle("BTCUSDT", T + i * 60_000, Decimal(o), Decimal(h), Decimal(low), Decimal(c), Decimal(v))


def test_bars_roll_up_into_the_interval_that_holds_them() -> None:
    minutes = [
        minute(0, "10", "12", "9", "11"),
        minute(1, "11", "15", "10", "14", "2"),
        minute(4, "14", "14", "8", "9"),  # minutes 2 and 3 missing: the bar is still whole
        minute(5, "9", "10", "9", "10"),  # opens the next 5m bar, which is still forming
    ]
    first, forming = roll_up(minutes, "5m")
    assert (first.open_time, first.open, first.high, first.low, first.close) == (
        T,
        Decimal(10),
        Decimal(15),
        Decimal(8),
        Decimal(9),
    )
    assert (first.volume, first.interval, first.closed) == (Decimal(4), "5m", True)
    assert (forming.open_time, forming.close, forming.closed) == (T + 300_000, Decimal(10), False)


def test_an_unknown_interval_is_refused() -> None:
    with pytest.raises(InvalidInput, match="2m"):
        roll_up([], "2m")
