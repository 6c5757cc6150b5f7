"""The Bybit feed against a Bybit v5 server on loopback (tests/exchanges/bybit.py), over real WebSockets.

The server starts from the real captures in ../shared/data when they are there (else from
synthetic values in the documented shapes) and misbehaves on demand.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from decimal import Decimal

import attrs
import pytest

from tests.conftest import SHARED_DATA
from tests.exchanges.bybit import FakeBybit
from tests.exchanges.recorder import Recorder
from tests.waiting import until
from tradesim.adapters.bybit.feed import bybit_feed
from tradesim.adapters.wsfeed.config import FeedConfig
from tradesim.adapters.wsfeed.feed import WebSocketFeed
from tradesim.domain.enums import Category
from tradesim.domain.market import Candle, FeedStatus, Ticker, Trade

# Short timings so that reconnects take a fraction of a second. The fake venue pushes only what a
# test makes it push, so the silence limit is long here except where a stall is the point.
FAST = FeedConfig(
    stale_after=5.0, heartbeat_interval=0.1, backoff_initial=0.05, backoff_cap=0.2, healthy_after=0.3,
    open_timeout=2, close_timeout=0.5,
)  # fmt: skip
SHARED = SHARED_DATA if (SHARED_DATA / "bybit-samples").exists() else None


@pytest.fixture
async def bybit() -> AsyncIterator[FakeBybit]:
    async with FakeBybit(idle_timeout=0.5) as server:
        server.seed("BTCUSDT", SHARED)
        server.seed("ETHUSDT", None)
        yield server  # type: ignore[misc]


async def _record(
    server: FakeBybit, category: Category, symbols: list[str], config: FeedConfig = FAST
) -> tuple[WebSocketFeed, Recorder]:
    feed = bybit_feed(server.url, category, config)
    return feed, Recorder(feed, symbols)


async def test_subscribes_and_is_acked_answers_pings_and_gets_the_snapshot_then_deltas(bybit: FakeBybit) -> None:
    feed, recorder = await _record(bybit, Category.LINEAR, ["BTCUSDT", "ETHUSDT"])
    try:
        first = await recorder.next(Ticker, lambda t: t.symbol == "BTCUSDT")
        snapshot = bybit.tickers[("linear", "BTCUSDT")]
        assert first.last_price == Decimal(snapshot["lastPrice"])
        assert str(first.bid_price) == snapshot["bid1Price"]  # exact digits, from the capture when present
        await bybit.set_ticker("linear", "BTCUSDT", bid1Price="28550.60", bid1Size="0.5")
        delta = await recorder.next(Ticker, lambda t: t.symbol == "BTCUSDT" and t.bid_price == Decimal("28550.60"))
        assert delta.last_price == first.last_price  # absent from the delta: unchanged
        assert delta.ask_price == first.ask_price
        await until(lambda: feed.stats.counts["pong"] >= 3)  # linear pong shape: op "ping", ret_msg "pong"
        session = bybit.sessions[0]
        [request] = [json.loads(f) for f in session.received if '"subscribe"' in f]
        assert request["op"] == "subscribe"
        assert sorted(request["args"]) == sorted(
            f"{t}.{s}" for s in ("BTCUSDT", "ETHUSDT") for t in ("tickers", "publicTrade", "kline.1")
        )
        assert feed.stats.counts["subscribed"] == 1
        assert session.pings >= 3
        assert '{"op":"ping"}' in session.received
        # The pings keep the connection open past the server's idle limit (0.5 s here).
        await until(lambda: session.pings >= 8)
        assert len(bybit.sessions) == 1
        assert not feed.stats.dropped
    finally:
        await recorder.aclose()


async def test_spot_joins_the_last_price_and_the_level_one_book_within_ten_args_per_request(bybit: FakeBybit) -> None:
    symbols = ["BTCUSDT", "ETHUSDT", "SOLUSDT"]  # 12 topics: two requests
    feed, recorder = await _record(bybit, Category.SPOT, symbols)
    try:
        first = await recorder.next(Ticker, lambda t: t.symbol == "BTCUSDT")
        book = bybit.books[("spot", "BTCUSDT")]
        assert first.category is Category.SPOT
        assert (str(first.bid_price), str(first.ask_price)) == (book["b"][0][0], book["a"][0][0])
        assert str(first.last_price) == bybit.tickers[("spot", "BTCUSDT")]["lastPrice"]
        await bybit.set_book("BTCUSDT", bids=[[book["b"][0][0], "0"], ["27000.00", "1"]], asks=[])
        moved = await recorder.next(Ticker, lambda t: t.bid_price == Decimal("27000.00"))
        assert moved.ask_price == first.ask_price
        await bybit.set_ticker("spot", "BTCUSDT", lastPrice="27500.5")
        await recorder.next(Ticker, lambda t: t.last_price == Decimal("27500.5") and t.bid_price == Decimal("27000.00"))
        await until(lambda: feed.stats.counts["subscribed"] == 2)  # spot acks: ret_msg "subscribe"
        requests = [json.loads(f) for f in bybit.sessions[0].received if '"subscribe"' in f]
        assert [len(r["args"]) for r in requests] == [10, 2]
        await until(lambda: feed.stats.counts["pong"] >= 2)  # spot pong shape: no req_id
        assert "subscribe_failed" not in feed.stats.counts
    finally:
        await recorder.aclose()


async def test_trades_and_a_closed_kline_come_through(bybit: FakeBybit) -> None:
    _, recorder = await _record(bybit, Category.LINEAR, ["BTCUSDT"])
    try:
        await recorder.next(Ticker)
        if SHARED is not None:  # a real capture, verbatim, re-addressed to our symbol
            capture = json.loads((SHARED / "bybit-samples/real-ws-tardis/linear_publicTrade_LTCUSDT.json").read_text())
            capture["topic"] = "publicTrade.BTCUSDT"
            capture["data"] = [{**row, "s": "BTCUSDT"} for row in capture["data"]]
            await bybit.send_capture("linear", capture)
            real = await recorder.next(Trade)
            assert (real.price, real.qty, real.trade_id) == (Decimal("94.53"), Decimal("0.4"), capture["data"][0]["i"])
        await bybit.trade("linear", "BTCUSDT", price="28551.5", size="0.010", side="Sell")
        trade = await recorder.next(Trade, lambda t: t.price == Decimal("28551.5"))
        assert str(trade.qty) == "0.010"
        start = 1_700_000_040_000
        await bybit.kline("linear", "BTCUSDT", start=start, open="1.5", high="2.5", low="1.0", close="2.0")
        await bybit.kline(
            "linear", "BTCUSDT", start=start, open="1.5", high="2.5", low="1.0", close="2.25", confirm=True
        )
        closed = await recorder.next(Candle, lambda c: c.closed)
        assert (closed.open_time, closed.close, closed.interval) == (start, Decimal("2.25"), "1m")
        assert [c.closed for c in recorder.of(Candle)] == [False, True]
    finally:
        await recorder.aclose()


async def test_a_server_side_disconnect_marks_stale_then_reconnects_resubscribes_and_recovers(bybit: FakeBybit) -> None:
    feed, recorder = await _record(bybit, Category.LINEAR, ["BTCUSDT", "ETHUSDT"])
    try:
        await recorder.next(Ticker, lambda t: t.symbol == "ETHUSDT")
        await bybit.disconnect()
        stale = [await recorder.next(FeedStatus) for _ in range(2)]
        assert {(s.symbol, s.stale, s.category) for s in stale} == {
            ("BTCUSDT", True, Category.LINEAR), ("ETHUSDT", True, Category.LINEAR),
        }  # fmt: skip
        await bybit.wait_for_sessions(2, subscribed=6)
        fresh = await recorder.next(FeedStatus, lambda s: s.symbol == "BTCUSDT")
        assert not fresh.stale
        after = recorder.events[recorder.events.index(fresh) + 1]
        assert isinstance(after, Ticker)  # the fresh snapshot right behind the status
        assert after.symbol == "BTCUSDT"
        assert feed.stats.counts["connected"] == 2
        assert feed.stats.counts["closed_by_server"] == 1
    finally:
        await recorder.aclose()


async def test_a_silent_stall_is_detected_the_symbols_go_stale_and_a_new_connection_recovers(bybit: FakeBybit) -> None:
    bybit.idle_timeout = None  # else the venue might hang up on the unanswered pings first
    feed, recorder = await _record(bybit, Category.LINEAR, ["BTCUSDT"], attrs.evolve(FAST, stale_after=0.4))
    try:
        await recorder.next(Ticker)
        bybit.stall()  # the connection stays open; nothing arrives, pings go unanswered
        status = await recorder.next(FeedStatus, within=3)
        assert status.stale
        assert feed.stats.counts["stalled"] == 1
        await recorder.next(FeedStatus, lambda s: not s.stale, within=3)
        await recorder.next(Ticker)
        assert len(bybit.sessions) == 2
    finally:
        await recorder.aclose()


async def test_garbage_and_out_of_order_tickers_are_counted_and_skipped(bybit: FakeBybit) -> None:
    feed, recorder = await _record(bybit, Category.LINEAR, ["BTCUSDT"])
    try:
        first = await recorder.next(Ticker)
        await bybit.send_raw("<html>502 Bad Gateway</html>")
        await bybit.send_raw(b"\x00\x01binary")
        await bybit.send_raw('{"topic":"tickers.BTCUSDT","type":"delta","ts":1,"data":{"bid1Price":28000.5}}')
        await bybit.send_raw('{"topic":"weird.BTCUSDT","type":"snapshot","ts":1,"data":{}}')
        await bybit.set_ticker("linear", "BTCUSDT", ts=first.ts - 1000, lastPrice="1.00")  # older than the snapshot
        await bybit.set_ticker("linear", "BTCUSDT", bid1Size="9.999")
        after = await recorder.next(Ticker, lambda t: t.bid_size == Decimal("9.999"))
        assert after.last_price == first.last_price  # the older delta was dropped, never merged
        assert dict(feed.stats.dropped) == {
            "not_json": 2, "malformed": 1, "unsupported_topic": 1, "out_of_order": 1,
        }  # fmt: skip
        assert feed.stats.counts["connected"] == 1  # none of it cost the connection
    finally:
        await recorder.aclose()


async def test_unreachable_venue_is_retried_with_backoff() -> None:
    async with FakeBybit() as server:
        url = server.url
    feed = bybit_feed(url, Category.LINEAR, FAST)  # the server is gone: connection refused
    recorder = Recorder(feed, ["BTCUSDT"])
    try:
        await until(lambda: feed.stats.counts["connect_failed"] >= 3)
        assert recorder.of(Ticker) == []
    finally:
        await recorder.aclose()


async def test_the_fake_venue_answers_in_the_documented_shapes(bybit: FakeBybit) -> None:
    from websockets.asyncio.client import connect
    from websockets.exceptions import InvalidStatus

    async with connect(f"{bybit.url}/spot") as ws:
        await ws.send(json.dumps({"req_id": "r1", "op": "subscribe", "args": [f"tickers.S{n}" for n in range(11)]}))
        refused = json.loads(await ws.recv())
        assert (refused["success"], refused["op"], refused["req_id"]) == (False, "subscribe", "r1")
        await ws.send('{"op":"ping"}')
        pong = json.loads(await ws.recv())
        assert (pong["op"], pong["ret_msg"], "req_id" in pong) == ("ping", "pong", False)
    async with connect(f"{bybit.url}/linear") as ws:
        await ws.send(json.dumps({"op": "subscribe", "args": ["nonsense.BTCUSDT"]}))
        assert json.loads(await ws.recv())["ret_msg"] == "Invalid topic: nonsense.BTCUSDT"
        await ws.send('{"op":"ping"}')
        assert json.loads(await ws.recv())["req_id"] == ""
    with pytest.raises(InvalidStatus):
        async with connect(f"{bybit.url}/option"):
            pass
