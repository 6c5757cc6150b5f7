"""A Bybit v5 public WebSocket (`/v5/public/linear`, `/v5/public/spot`) on loopback.

Shapes from ../shared/protocols/bybit-v5.md: pongs keep `op: "ping"` with `ret_msg: "pong"`
(linear adds `req_id`), subscribe acks differ by market (spot `ret_msg: "subscribe"`), a
failed subscription says why in `ret_msg`, spot refuses more than 10 args per request.
Linear tickers are a snapshot on subscribe, then deltas holding only the changed fields;
spot tickers are always snapshots and have no bid/ask (spot books come from `orderbook.1`).
"""

from __future__ import annotations

import asyncio
import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

from tests.exchanges.base import FakeExchange, Session

TOPIC = re.compile(
    r"^(tickers|publicTrade|kline\.(1|3|5|15|30|60|120|240|360|720|D|W|M)|orderbook\.(1|50|200|1000))\.[A-Z0-9]+$"
)
MAX_SPOT_ARGS = 10

#: Synthetic starting state in the documented shapes (used when the shared captures are absent).
LINEAR_TICKER = {
    "symbol": "BTCUSDT", "tickDirection": "PlusTick", "price24hPcnt": "0.01", "lastPrice": "30000.10",
    "prevPrice24h": "29700.00", "highPrice24h": "30100.00", "lowPrice24h": "29600.00", "prevPrice1h": "29990.00",
    "markPrice": "30000.20", "indexPrice": "30000.30", "openInterest": "50000.000", "openInterestValue": "1500000000",
    "turnover24h": "4000000000", "volume24h": "150000.000", "nextFundingTime": "1700006400000",
    "fundingRate": "0.0001", "bid1Price": "30000.00", "bid1Size": "2.000", "ask1Price": "30000.10", "ask1Size": "3.000",
}  # fmt: skip
SPOT_TICKER = {
    "symbol": "BTCUSDT", "lastPrice": "30000.01", "highPrice24h": "30100", "lowPrice24h": "29600",
    "prevPrice24h": "29700", "volume24h": "6000.5", "turnover24h": "180000000.5", "price24hPcnt": "0.0101",
    "usdIndexPrice": "30000.2",
}  # fmt: skip


class FakeBybit(FakeExchange):
    paths = ("/v5/public/linear", "/v5/public/spot")

    def __init__(self, *, idle_timeout: float | None = None, max_age: float | None = None) -> None:
        super().__init__(idle_timeout=idle_timeout, max_age=max_age)
        self.tickers: dict[tuple[str, str], dict[str, Any]] = {}
        self.books: dict[tuple[str, str], dict[str, Any]] = {}
        self.sequence = 0

    @property
    def url(self) -> str:
        """The base clients append the category to (TRADESIM_BYBIT_WS_URL)."""
        return f"{self.base_url}/v5/public"

    def seed(self, symbol: str = "BTCUSDT", shared: Path | None = None) -> None:
        """Starting tickers and books: the real captures when `shared` (../shared/data) is given."""
        linear, spot_last = dict(LINEAR_TICKER), dict(SPOT_TICKER)
        book = {"s": symbol, "b": [["30000.00", "1.5"]], "a": [["30000.02", "0.8"]], "u": 1, "seq": 1}
        if shared is not None:
            captures = shared / "bybit-samples"
            linear = json.loads((captures / "real-ws-tardis/linear_tickers_BTCUSDT_snapshot.json").read_text())["data"]
            spot_last = json.loads(
                (captures / "docs-examples/ws_spot_tickers_subscribe_and_snapshot.json").read_text()
            )["push"]["data"]
            book = json.loads((captures / "real-ws-tardis/spot_orderbook1_BTCUSDT_snapshot.json").read_text())["data"]
        self.tickers[("linear", symbol)] = {**linear, "symbol": symbol}
        self.tickers[("spot", symbol)] = {**spot_last, "symbol": symbol}
        self.books[("spot", symbol)] = {**book, "s": symbol}

    @staticmethod
    def category(session: Session) -> str:
        return session.path.rsplit("/", 1)[-1]

    async def on_frame(self, session: Session, text: str) -> None:
        try:
            request = json.loads(text)
            op = request.get("op")
        except (ValueError, AttributeError):
            await session.send({"success": False, "ret_msg": f"error:request not json:{text[:40]}", "op": ""})
            return
        category = self.category(session)
        if op == "ping":
            session.pings += 1
            session.last_ping_at = _now()
            pong: dict[str, Any] = {"success": True, "ret_msg": "pong", "conn_id": session.conn_id}
            if category != "spot":
                pong["req_id"] = request.get("req_id", "")
            await session.send({**pong, "op": "ping"})
        elif op == "subscribe":
            await self._subscribe(session, category, request)
        else:
            await session.send({"success": False, "ret_msg": f"error:unknown op {op}", "conn_id": session.conn_id})

    async def _subscribe(self, session: Session, category: str, request: dict[str, Any]) -> None:
        args = request.get("args") or []
        req_id = request.get("req_id", "")
        failure = None
        if category == "spot" and len(args) > MAX_SPOT_ARGS:
            failure = f"args size >{MAX_SPOT_ARGS}"  # wording invented: the docs give the limit, not the message
        elif len(json.dumps(args)) > 21_000:
            failure = "args too long"
        else:
            bad = [a for a in args if not TOPIC.match(a)]
            if bad:
                failure = f"Invalid topic: {bad[0]}"
        if failure:
            reply = {"success": False, "ret_msg": failure, "conn_id": session.conn_id, "req_id": req_id}
            await session.send({**reply, "op": "subscribe"})
            return
        ack = {"success": True, "ret_msg": "subscribe" if category == "spot" else "", "conn_id": session.conn_id}
        await session.send({**ack, "req_id": req_id, "op": "subscribe"})
        for topic in args:
            session.subscribed.add(topic)
            symbol = topic.rsplit(".", 1)[-1]
            # A (re)subscription starts with a snapshot.
            if topic.startswith("tickers.") and (category, symbol) in self.tickers:
                await session.send(self._ticker_message(category, symbol, "snapshot", self.tickers[(category, symbol)]))
            elif topic.startswith("orderbook.1.") and (category, symbol) in self.books:
                await session.send(self._book_message(symbol, "snapshot", self.books[(category, symbol)]))

    def _ticker_message(
        self, category: str, symbol: str, kind: str, data: dict[str, Any], ts: int | None = None
    ) -> dict[str, Any]:
        self.sequence += 1
        ts = ts if ts is not None else self.now()
        if category == "spot":  # spot puts ts before type, as the docs note
            return {"topic": f"tickers.{symbol}", "ts": ts, "type": "snapshot", "cs": self.sequence, "data": data}
        return {"topic": f"tickers.{symbol}", "type": kind, "data": data, "cs": self.sequence, "ts": ts}

    def _book_message(self, symbol: str, kind: str, data: dict[str, Any], ts: int | None = None) -> dict[str, Any]:
        return {
            "topic": f"orderbook.1.{symbol}",
            "ts": ts if ts is not None else self.now(),
            "type": kind,
            "data": data,
        }

    async def set_ticker(self, category: str, symbol: str, *, ts: int | None = None, **changes: str) -> int:
        """Change the ticker: linear subscribers get a delta of exactly `changes`, spot ones a snapshot."""
        state = self.tickers.setdefault((category, symbol), {"symbol": symbol})
        state.update(changes)
        if category == "spot":
            message = self._ticker_message(category, symbol, "snapshot", dict(state), ts)
        else:
            message = self._ticker_message(category, symbol, "delta", {"symbol": symbol, **changes}, ts)
        return await self._publish(category, f"tickers.{symbol}", message)

    async def set_book(
        self, symbol: str, *, bids: list[list[str]], asks: list[list[str]], ts: int | None = None
    ) -> int:
        """A spot level-1 delta (size "0" deletes a level)."""
        book = self.books.setdefault(("spot", symbol), {"s": symbol, "b": [], "a": [], "u": 0, "seq": 0})
        book["u"] += 1
        data = {"s": symbol, "b": bids, "a": asks, "u": book["u"], "seq": book["seq"] + 1}
        return await self._publish("spot", f"orderbook.1.{symbol}", self._book_message(symbol, "delta", data, ts))

    async def trade(
        self,
        category: str,
        symbol: str,
        *,
        price: str,
        size: str,
        side: str = "Buy",
        ts: int | None = None,
        trade_id: str | None = None,
    ) -> int:
        ts = ts if ts is not None else self.now()
        row: dict[str, Any] = {
            "T": ts - 2,
            "s": symbol,
            "S": side,
            "v": size,
            "p": price,
            "i": trade_id or f"t-{ts}",
            "BT": False,
        }
        if category == "linear":
            row["L"] = "PlusTick"
        message = {"topic": f"publicTrade.{symbol}", "type": "snapshot", "ts": ts, "data": [row]}
        return await self._publish(category, f"publicTrade.{symbol}", message)

    async def kline(
        self,
        category: str,
        symbol: str,
        *,
        start: int,
        open: str,
        high: str,
        low: str,
        close: str,
        volume: str = "1",
        confirm: bool = False,
        ts: int | None = None,
    ) -> int:
        ts = ts if ts is not None else self.now()
        row = {"start": start, "end": start + 59_999, "interval": "1", "open": open, "close": close, "high": high,
               "low": low, "volume": volume, "turnover": str(Decimal(volume) * Decimal(close)), "confirm": confirm,
               "timestamp": ts}  # fmt: skip
        message = {"topic": f"kline.1.{symbol}", "data": [row], "ts": ts, "type": "snapshot"}
        return await self._publish(category, f"kline.1.{symbol}", message)

    async def send_capture(self, category: str, message: dict[str, Any]) -> int:
        """A captured message, verbatim, to the sessions of `category` subscribed to its topic."""
        return await self._publish(category, message["topic"], message)

    async def _publish(self, category: str, topic: str, message: Any) -> int:
        sessions = [s for s in self.open_sessions if self.category(s) == category]
        return await self.publish(topic, message, sessions)


def _now() -> float:
    return asyncio.get_running_loop().time()
