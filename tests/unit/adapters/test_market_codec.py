"""The price channel's codec: every event kind round-trips exactly."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tradesim.adapters.redis.market_codec import CodecError, decode_events, encode_events
from tradesim.domain.enums import Category, Side
from tradesim.domain.market import Candle, FeedStatus, Ticker, Trade

EVENTS = [
    Ticker("BTCUSDT", Decimal("28550.70"), Decimal("28550.70"), Decimal("28550.80"), Decimal("28552.81"),
           1680673821770, Category.LINEAR, Decimal("0.0001"), 1680681600000, Decimal("2.049"), Decimal("15.328")),
    Ticker.of("BTCUSDT", last="0.00000010", ts=1, category=Category.SPOT),
    Trade("BTCUSDT", Decimal("28165.38"), Decimal("0.041732"), Side.SELL, 1680652847524, "2290000000050703789",
          Category.SPOT),
    Candle("BTCUSDT", 1672324800000, Decimal("16649.5"), Decimal("16677"), Decimal("16608"), Decimal("16677"),
           Decimal("2.081"), "1m", Decimal("34666.4005"), True, Category.LINEAR),
    Candle("BTCUSDT", 0, Decimal("1"), Decimal("1"), Decimal("1"), Decimal("1"), Decimal("0")),
    FeedStatus("BTCUSDT", True, 1700000000000, Category.SPOT),
]  # fmt: skip


def test_events_round_trip_exactly() -> None:
    decoded = decode_events(encode_events(EVENTS))
    assert decoded == EVENTS
    # Same digits and exponent, not just equal values.
    assert [str(getattr(e, "last_price", "")) for e in decoded[:2]] == ["28550.70", "1.0E-7"]


def test_a_ticker_is_compact() -> None:
    assert len(encode_events(EVENTS[:1])) < 140


@pytest.mark.parametrize(
    "payload",
    [b"nope", b"{}", b"[]", b"[2]", b'[1, ["t"]]', b'[1, ["q", "X", "linear", 1]]',
     b'[1, ["s", "X", "inverse", 1, true]]', b'[1, ["x", "X", "spot", 1, 2.5, "1", "Buy", "i"]]',
     b'[1, ["x", "X", "spot", "1", "2.5", "1", "Buy", "i"]]'],
)  # fmt: skip
def test_anything_else_is_a_codec_error(payload: bytes) -> None:
    with pytest.raises(CodecError):
        decode_events(payload)
