"""The Bitget dialect's rules on synthetic messages in the documented shapes."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from tradesim.adapters.bitget.feed import MAX_CHANNELS, BitgetDialect
from tradesim.adapters.wsfeed.dialect import Unusable
from tradesim.adapters.wsfeed.stats import FeedStats
from tradesim.domain.enums import Category
from tradesim.domain.market import Candle, Ticker

ARG = {"instType": "USDT-FUTURES", "channel": "candle1m", "instId": "BTCUSDT"}


def _rows(*rows: tuple[int, str]) -> list[list[str]]:
    """Documented candle rows: [start, open, high, low, close, baseVolume, quoteVolume, usdtVolume]."""
    return [[str(start), "100", "102", "99", close, "5", "500", "500"] for start, close in rows]


def _candles(action: str, *rows: tuple[int, str]) -> dict[str, Any]:
    return {"action": action, "arg": ARG, "data": _rows(*rows), "ts": 1}


def _dialect() -> tuple[BitgetDialect, FeedStats]:
    stats = FeedStats("test")
    return BitgetDialect(["USDT-FUTURES", "SPOT"], ["BTCUSDT"], stats), stats


def _summary(events: list[Any] | None) -> list[tuple[int, str, bool]]:
    assert events is not None
    return [(c.open_time, str(c.close), c.closed) for c in events if isinstance(c, Candle)]


def test_a_candle_closes_when_the_next_bar_starts() -> None:
    dialect, _ = _dialect()
    # A snapshot with history: every row but the last is final.
    assert _summary(dialect.handle(_candles("snapshot", (60_000, "101"), (120_000, "100.5"), (0, "100")))) == [
        (0, "100", True), (60_000, "101", True), (120_000, "100.5", False),
    ]  # fmt: skip
    assert _summary(dialect.handle(_candles("update", (120_000, "101.5")))) == [(120_000, "101.5", False)]
    assert _summary(dialect.handle(_candles("update", (180_000, "100")))) == [
        (120_000, "101.5", True), (180_000, "100", False),
    ]  # fmt: skip


def test_a_snapshot_after_reconnect_does_not_close_bars_twice() -> None:
    dialect, stats = _dialect()
    dialect.handle(_candles("snapshot", (0, "100"), (60_000, "101")))
    dialect.on_connect()
    again = dialect.handle(_candles("snapshot", (0, "100"), (60_000, "101.2"), (120_000, "100")))
    assert _summary(again) == [(60_000, "101.2", True), (120_000, "100", False)]
    assert _summary(dialect.handle(_candles("update", (60_000, "100.1")))) == []
    assert stats.dropped["out_of_order"] == 1


def _ticker(ts: str, last: str = "27000.5") -> dict[str, Any]:
    row = {"instId": "BTCUSDT", "lastPr": last, "bidPr": "27000", "askPr": "27000.5", "bidSz": "2.71", "askSz": "8.76",
           "fundingRate": "0.000010", "nextFundingTime": "1695722400000", "markPrice": "27000.0", "symbolType": 1,
           "symbol": "BTCUSDT", "ts": ts}  # fmt: skip
    return {"action": "snapshot", "arg": {**ARG, "channel": "ticker"}, "data": [row], "ts": int(ts) + 5}


def test_an_older_ticker_is_dropped_and_counted() -> None:
    dialect, stats = _dialect()
    [first] = dialect.handle(_ticker("1695715383021")) or []
    assert isinstance(first, Ticker)
    assert (first.funding_rate, first.mark_price) == (Decimal("0.000010"), Decimal("27000.0"))
    assert dialect.handle(_ticker("1695715383020", last="1")) == []
    assert stats.dropped["out_of_order"] == 1


def test_pong_is_plain_text_and_acks_are_control() -> None:
    dialect, stats = _dialect()
    assert dialect.decode(b"pong") is None
    assert dialect.decode("pong") is None
    assert dialect.decode(json.dumps({"event": "subscribe", "arg": ARG})) is None
    assert dialect.decode(json.dumps({"event": "error", "code": 30001, "msg": "channel does not exist"})) is None
    assert (stats.counts["pong"], stats.counts["subscribed"], stats.counts["error"]) == (2, 1, 1)
    assert dialect.ping_frame() == "ping"


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        ("ping", "not_json"),
        ('{"what": 1}', "unknown_message"),
        (
            '{"action": "snapshot", "arg": {"instType": "COIN-FUTURES", "channel": "ticker", "instId": "BTCUSDT"}, '
            '"data": []}',
            "unsupported_inst_type",
        ),
        (
            '{"action": "snapshot", "arg": {"instType": "usdt-futures", "topic": "ticker", "symbol": "BTCUSDT"}, '
            '"data": []}',
            "unsupported_dialect",
        ),
        (
            '{"action": "snapshot", "arg": {"instType": "SPOT", "channel": "books5", "instId": "BTCUSDT"}, "data": []}',
            "unsupported_channel",
        ),
        (json.dumps(_candles("update", (60_000, "abc"))), "malformed"),
        (json.dumps({**_candles("update"), "data": [["60000", "1"]]}), "malformed"),
    ],
)
def test_garbage_is_unusable_with_a_reason(frame: str, reason: str) -> None:
    dialect, _ = _dialect()
    with pytest.raises(Unusable) as info:
        dialect.decode(frame)
    assert info.value.reason == reason


def test_subscriptions_are_batched_and_channels_capped() -> None:
    symbols = [f"C{n}USDT" for n in range(30)]
    dialect = BitgetDialect(["USDT-FUTURES", "SPOT"], symbols, FeedStats("t"))
    requests = [json.loads(frame) for frame in dialect.subscribe_frames()]
    args = [a for r in requests for a in r["args"]]
    assert len(args) == 180
    assert all(len(frame) <= 4000 for frame in dialect.subscribe_frames())
    assert {(a["instType"], a["channel"]) for a in args} == {
        (t, c) for t in ("USDT-FUTURES", "SPOT") for c in ("ticker", "trade", "candle1m")
    }
    assert dialect.instruments[0] == (Category.LINEAR, "C0USDT")
    too_many = [f"S{n}" for n in range(MAX_CHANNELS // 3 + 1)]
    with pytest.raises(ValueError, match="at most 1000"):
        BitgetDialect(["USDT-FUTURES"], too_many, FeedStats("t"))
    with pytest.raises(ValueError, match="unsupported Bitget instType"):
        BitgetDialect(["COIN-FUTURES"], ["BTCUSD"], FeedStats("t"))
