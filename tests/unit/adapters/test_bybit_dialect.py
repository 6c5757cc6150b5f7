"""The Bybit dialect's rules on synthetic messages: merging, ordering, garbage, subscriptions."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from tradesim.adapters.bybit.feed import MAX_SPOT_ARGS, BybitDialect, chunk_args
from tradesim.adapters.wsfeed.dialect import Unusable
from tradesim.adapters.wsfeed.stats import FeedStats
from tradesim.domain.enums import Category
from tradesim.domain.market import Candle, Ticker

SNAPSHOT = {
    "symbol": "BTCUSDT", "lastPrice": "30000.10", "markPrice": "30000.20", "bid1Price": "30000.00",
    "bid1Size": "1.5", "ask1Price": "30000.10", "ask1Size": "2", "fundingRate": "0.0001",
    "nextFundingTime": "1700006400000", "volume24h": "123.4",
}  # fmt: skip


def _ticker(kind: str, ts: int, **data: str) -> dict[str, Any]:
    return {"topic": "tickers.BTCUSDT", "type": kind, "ts": ts, "cs": 1, "data": {"symbol": "BTCUSDT", **data}}


def _linear() -> tuple[BybitDialect, FeedStats]:
    stats = FeedStats("test")
    return BybitDialect(Category.LINEAR, ["BTCUSDT", "ETHUSDT"], stats), stats


def test_a_delta_changes_only_the_fields_it_carries() -> None:
    dialect, _ = _linear()
    dialect.handle(_ticker("snapshot", 1000, **SNAPSHOT))
    [ticker] = dialect.handle(_ticker("delta", 1100, bid1Price="30000.05", bid1Size="0.7")) or []
    assert isinstance(ticker, Ticker)
    assert (ticker.bid_price, ticker.bid_size) == (Decimal("30000.05"), Decimal("0.7"))
    assert (ticker.last_price, ticker.ask_price, ticker.mark_price) == (
        Decimal("30000.10"), Decimal("30000.10"), Decimal("30000.20"),
    )  # fmt: skip
    assert ticker.next_funding_time == 1700006400000
    assert ticker.ts == 1100


def test_a_delta_before_any_snapshot_is_unusable_and_a_new_connection_needs_a_new_snapshot() -> None:
    dialect, _ = _linear()
    with pytest.raises(Unusable, match="delta_before_snapshot"):
        dialect.handle(_ticker("delta", 1000, bid1Price="1"))
    dialect.handle(_ticker("snapshot", 1000, **SNAPSHOT))
    dialect.on_connect()
    with pytest.raises(Unusable, match="delta_before_snapshot"):
        dialect.handle(_ticker("delta", 1100, bid1Price="1"))


def test_an_older_ticker_is_dropped_counted_and_not_merged() -> None:
    dialect, stats = _linear()
    dialect.handle(_ticker("snapshot", 1000, **SNAPSHOT))
    assert dialect.handle(_ticker("delta", 999, lastPrice="1.0")) == []
    assert stats.dropped["out_of_order"] == 1
    [ticker] = dialect.handle(_ticker("delta", 1000, bid1Size="3")) or []
    assert isinstance(ticker, Ticker)
    assert ticker.last_price == Decimal("30000.10")  # the dropped delta never got merged


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        ("not json at all", "not_json"),
        (b"\xff\xfe", "not_json"),
        ("[1, 2, 3]", "malformed"),
        ('{"op": "surprise"}', "unknown_message"),
        ('{"topic": "liquidation.BTCUSDT", "type": "snapshot", "ts": 1, "data": {}}', "unsupported_topic"),
        ('{"topic": "tickers.DOGEUSDT", "type": "snapshot", "ts": 1, "data": {}}', "unsubscribed_symbol"),
        ('{"topic": "orderbook.1.BTCUSDT", "type": "snapshot", "ts": 1, "data": {}}', "unsupported_topic"),
        (json.dumps(_ticker("snapshot", 1, **{**SNAPSHOT, "bid1Price": 30000.0})), "malformed"),  # type: ignore[dict-item]
        (json.dumps(_ticker("snapshot", 1, **{**SNAPSHOT, "lastPrice": "NaN"})), "malformed"),
        (json.dumps(_ticker("snapshot", 1.5, **SNAPSHOT)), "malformed"),  # type: ignore[arg-type]
        (json.dumps(_ticker("sideways", 1, **SNAPSHOT)), "malformed"),
        (json.dumps(_ticker("snapshot", 1, symbol="BTCUSDT", lastPrice="1")), "incomplete_ticker"),
    ],
)
def test_garbage_is_unusable_with_a_reason(frame: str | bytes, reason: str) -> None:
    dialect, _ = _linear()
    with pytest.raises(Unusable) as info:
        dialect.decode(frame)
    assert info.value.reason == reason


def test_a_crossed_book_is_refused_by_the_domain() -> None:
    from tradesim.domain.errors import InvalidInput

    dialect, _ = _linear()
    with pytest.raises(InvalidInput):
        dialect.handle(_ticker("snapshot", 1, **{**SNAPSHOT, "bid1Price": "30001", "ask1Price": "30000"}))


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ({"success": True, "ret_msg": "pong", "conn_id": "c", "req_id": "", "op": "ping"}, "pong"),
        ({"success": True, "ret_msg": "pong", "conn_id": "c", "op": "ping"}, "pong"),
        ({"args": ["1672916271846"], "op": "pong"}, "pong"),
        ({"success": True, "ret_msg": "", "conn_id": "c", "req_id": "sub-1", "op": "subscribe"}, "subscribed"),
        ({"success": True, "ret_msg": "subscribe", "conn_id": "c", "req_id": "", "op": "subscribe"}, "subscribed"),
        ({"success": False, "ret_msg": "Invalid topic: x", "conn_id": "c", "op": "subscribe"}, "subscribe_failed"),
    ],
)
def test_control_messages_are_counted_not_emitted(message: dict[str, Any], kind: str) -> None:
    dialect, stats = _linear()
    assert dialect.handle(message) is None
    assert stats.counts[kind] == 1


def _kline(start: int, close: str, confirm: bool) -> dict[str, Any]:
    row = {"start": start, "end": start + 59_999, "interval": "1", "open": "100", "close": close, "high": "102",
           "low": "99", "volume": "5", "turnover": "500", "confirm": confirm, "timestamp": start + 1}  # fmt: skip
    return {"topic": "kline.1.BTCUSDT", "type": "snapshot", "ts": start + 1, "data": [row]}


def test_a_confirmed_kline_is_a_closed_candle_and_later_pushes_of_that_bar_are_dropped() -> None:
    dialect, stats = _linear()
    [forming] = dialect.handle(_kline(60_000, "101", False)) or []
    [closed] = dialect.handle(_kline(60_000, "101.5", True)) or []
    assert isinstance(forming, Candle)
    assert isinstance(closed, Candle)
    assert (forming.closed, closed.closed, closed.close, closed.interval) == (False, True, Decimal("101.5"), "1m")
    assert dialect.handle(_kline(60_000, "101.5", True)) == []
    assert stats.dropped["candle_after_close"] == 1
    [following] = dialect.handle(_kline(120_000, "100.5", False)) or []
    assert isinstance(following, Candle)
    assert following.open_time == 120_000


def test_replayed_trades_are_dropped() -> None:
    dialect, stats = _linear()
    trade = {"T": 5, "s": "BTCUSDT", "S": "Buy", "v": "0.1", "p": "30000", "L": "PlusTick", "i": "a", "BT": False}
    message = {"topic": "publicTrade.BTCUSDT", "type": "snapshot", "ts": 6, "data": [trade]}
    assert len(dialect.handle(message) or []) == 1
    assert dialect.handle(message) == []
    older = {**message, "data": [{**trade, "T": 4, "i": "b"}]}
    assert dialect.handle(older) == []
    same_ms = {**message, "data": [{**trade, "i": "c"}]}
    assert len(dialect.handle(same_ms) or []) == 1
    assert stats.dropped["trade_replayed"] == 2


def test_spot_subscriptions_carry_at_most_ten_args_per_request() -> None:
    symbols = [f"C{n}USDT" for n in range(7)]
    dialect = BybitDialect(Category.SPOT, symbols, FeedStats("t"))
    requests = [json.loads(frame) for frame in dialect.subscribe_frames()]
    assert all(len(r["args"]) <= MAX_SPOT_ARGS for r in requests)
    args = [a for r in requests for a in r["args"]]
    assert len(args) == 28
    assert set(args) == {f"{t}.{s}" for s in symbols for t in ("tickers", "publicTrade", "kline.1", "orderbook.1")}
    assert [r["req_id"] for r in requests] == ["sub-1", "sub-2", "sub-3"]
    assert {r["op"] for r in requests} == {"subscribe"}


def test_linear_subscriptions_stay_under_the_serialised_length_limit() -> None:
    args = [f"publicTrade.SYMBOL{n:05d}USDT" for n in range(2000)]
    chunks = chunk_args(args, None)
    assert [a for c in chunks for a in c] == args
    assert all(len(json.dumps(c, separators=(",", ":"))) <= 21_000 for c in chunks)
    assert len(chunks) > 1
    assert json.loads(BybitDialect(Category.LINEAR, ["BTCUSDT"], FeedStats("t")).ping_frame()) == {"op": "ping"}
