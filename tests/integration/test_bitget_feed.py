"""The Bitget feed against a Bitget v2 server on loopback (tests/exchanges/bitget.py), over real WebSockets."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from decimal import Decimal

import attrs
import pytest

from tests.conftest import SHARED_DATA
from tests.exchanges.bitget import FakeBitget
from tests.exchanges.recorder import Recorder
from tests.waiting import until
from tradesim.adapters.bitget.feed import bitget_feed
from tradesim.adapters.wsfeed.config import FeedConfig
from tradesim.adapters.wsfeed.feed import WebSocketFeed
from tradesim.domain.enums import Category
from tradesim.domain.market import Candle, FeedStatus, Ticker, Trade

FAST = FeedConfig(
    stale_after=5.0, heartbeat_interval=0.15, backoff_initial=0.05, backoff_cap=0.2, healthy_after=0.3,
    open_timeout=2, close_timeout=0.5,
)  # fmt: skip
SHARED = SHARED_DATA if (SHARED_DATA / "bitget-samples").exists() else None
BOTH = ("USDT-FUTURES", "SPOT")


@pytest.fixture
async def bitget() -> AsyncIterator[FakeBitget]:
    async with FakeBitget(idle_timeout=0.6) as server:  # Bitget: 2 minutes without a ping
        server.seed("BTCUSDT", SHARED)
        yield server  # type: ignore[misc]


def _record(server: FakeBitget, symbols: list[str], config: FeedConfig = FAST) -> tuple[WebSocketFeed, Recorder]:
    feed = bitget_feed(server.url, BOTH, config)
    return feed, Recorder(feed, symbols)


async def test_each_arg_is_acked_pings_are_plain_text_and_snapshots_arrive(bitget: FakeBitget) -> None:
    feed, recorder = _record(bitget, ["BTCUSDT"])
    try:
        linear = await recorder.next(Ticker, lambda t: t.category is Category.LINEAR)
        spot = await recorder.next(Ticker, lambda t: t.category is Category.SPOT)
        futures_row = bitget.tickers[("USDT-FUTURES", "BTCUSDT")]
        assert (str(linear.last_price), str(linear.mark_price)) == (futures_row["lastPr"], futures_row["markPrice"])
        assert spot.mark_price == spot.last_price
        await until(lambda: feed.stats.counts["subscribed"] == 6)  # one ack per arg
        session = bitget.sessions[0]
        await until(lambda: feed.stats.counts["pong"] >= 4)
        assert "ping" in session.received
        assert len(bitget.sessions) == 1  # the pings kept it past the server's 0.6 s limit
        # The snapshot's history rows are final bars; the last one is still forming.
        candles = recorder.of(Candle)
        assert [c.closed for c in candles if c.category is Category.LINEAR] == [True, True, False]
    finally:
        await recorder.aclose()


async def test_trades_and_a_bar_closed_by_the_next_one(bitget: FakeBitget) -> None:
    _, recorder = _record(bitget, ["BTCUSDT"])
    try:
        forming = await recorder.next(Candle, lambda c: not c.closed and c.category is Category.LINEAR)
        await bitget.trade("USDT-FUTURES", "BTCUSDT", price="30001.5", size="0.02", side="sell")
        trade = await recorder.next(Trade)
        assert (trade.price, trade.qty, trade.category) == (Decimal("30001.5"), Decimal("0.02"), Category.LINEAR)
        await bitget.candle("USDT-FUTURES", "BTCUSDT", start=forming.open_time, open="30000", high="30020",
                            low="29990", close="30012")  # fmt: skip
        await bitget.candle("USDT-FUTURES", "BTCUSDT", start=forming.open_time + 60_000, open="30012", high="30012",
                            low="30012", close="30012")  # fmt: skip
        closed = await recorder.next(Candle, lambda c: c.closed and c.open_time == forming.open_time)
        assert (closed.close, closed.high) == (Decimal("30012"), Decimal("30020"))
    finally:
        await recorder.aclose()


async def test_many_subscriptions_stay_under_ten_messages_per_second(bitget: FakeBitget) -> None:
    symbols = [f"C{n}USDT" for n in range(40)]  # 240 channels: six requests, paced
    feed, recorder = _record(bitget, symbols, attrs.evolve(FAST, heartbeat_interval=0.3))
    try:
        await until(lambda: feed.stats.counts["subscribed"] == 240)
        assert bitget.kicked == 0
        assert len(bitget.sessions) == 1
        requests = [json.loads(f) for f in bitget.sessions[0].received if f.startswith("{")]
        assert len(requests) == 6
    finally:
        await recorder.aclose()


async def test_the_daily_forced_disconnect_reconnects_at_once(bitget: FakeBitget) -> None:
    bitget.max_age = 0.5  # Bitget: 24 h
    feed, recorder = _record(bitget, ["BTCUSDT"])
    try:
        await recorder.next(Ticker)
        status = await recorder.next(FeedStatus)
        assert status.stale
        await recorder.next(FeedStatus, lambda s: not s.stale)
        assert len(bitget.sessions) == 2
        assert bitget.sessions[0].closed_by_server == "connection age limit"
        assert feed.stats.counts["closed_by_server"] >= 1
        assert feed.stats.counts["connected"] == 2
        # A connection that lived past healthy_after reconnects without the backoff's growth.
        assert bitget.sessions[1].opened_at - bitget.sessions[0].opened_at < 0.5 + FAST.backoff_initial + 0.2
    finally:
        await recorder.aclose()


async def test_stall_and_garbage(bitget: FakeBitget) -> None:
    bitget.idle_timeout = None  # else the venue might hang up on the unanswered pings first
    feed, recorder = _record(bitget, ["BTCUSDT"], attrs.evolve(FAST, stale_after=0.4))
    try:
        first = await recorder.next(Ticker, lambda t: t.category is Category.LINEAR)
        await bitget.send_raw("pong?")
        arg = '{"instType":"USDT-FUTURES","channel":"ticker","instId":"BTCUSDT"}'
        await bitget.send_raw(f'{{"action":"update","arg":{arg},"data":[{{"lastPr":"1"}}],"ts":1}}')
        await bitget.set_ticker("USDT-FUTURES", "BTCUSDT", ts=first.ts - 1, lastPr="2")
        bitget.stall()
        stale = await recorder.next(FeedStatus, lambda s: s.stale, within=3)
        assert stale.symbol == "BTCUSDT"
        await recorder.next(FeedStatus, lambda s: not s.stale, within=3)
        assert feed.stats.counts["stalled"] == 1
        assert dict(feed.stats.dropped) == {"not_json": 1, "malformed": 1, "out_of_order": 1}
        before_stall = recorder.events[: recorder.events.index(stale)]
        assert all(t.last_price != Decimal("2") for t in before_stall if isinstance(t, Ticker))
    finally:
        await recorder.aclose()


async def test_the_fake_venue_enforces_the_limits_it_claims(bitget: FakeBitget) -> None:
    """So that the tests above mean something: a flooding client is cut off, a bad channel gets an error."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    async with connect(bitget.url) as ws:
        await ws.send(json.dumps({"op": "subscribe", "args": [{"instType": "SPOT", "channel": "nope", "instId": "X"}]}))
        error = json.loads(await ws.recv())
        assert (error["event"], error["code"]) == ("error", 30001)
        with pytest.raises(ConnectionClosed):
            for _ in range(20):
                await ws.send("ping")
                await ws.recv()
    assert bitget.kicked == 1
