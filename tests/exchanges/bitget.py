"""A Bitget v2 public WebSocket (`/v2/ws/public`) on loopback.

Shapes from ../shared/protocols/bitget-v2.md: the heartbeat is the bare text `ping` ->
`pong`; every subscribe arg gets its own `{"event":"subscribe","arg":...}` ack; an unknown
channel gets `{"event":"error","code":30001,...}`; pushes are `{"action","arg","data","ts"}`
with a snapshot on subscribe. Limits enforced: at most 10 messages per second per
connection (pings included: the connection is closed), a ping at least every
`idle_timeout` seconds (2 minutes at Bitget), and `max_age` (Bitget: 24 h) forced disconnects.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from pathlib import Path
from typing import Any

from tests.exchanges.base import FakeExchange, Session

INST_TYPES = ("SPOT", "USDT-FUTURES", "COIN-FUTURES", "USDC-FUTURES")
CHANNELS = ("ticker", "trade", "candle1m", "candle5m", "candle1H", "books", "books1", "books5", "books15")
MAX_MESSAGES_PER_SECOND = 10

FUTURES_TICKER = {
    "instId": "BTCUSDT", "lastPr": "30000.5", "bidPr": "30000", "askPr": "30000.5", "bidSz": "2.71", "askSz": "8.76",
    "open24h": "29800", "high24h": "30100", "low24h": "29700", "change24h": "0.0067", "fundingRate": "0.0001",
    "nextFundingTime": "1700006400000", "markPrice": "30000.2", "indexPrice": "30000.3", "holdingAmount": "929.502",
    "baseVolume": "368.900", "quoteVolume": "11067000.961", "openUtc": "29900", "symbolType": "1",
    "symbol": "BTCUSDT", "deliveryPrice": "0",
}  # fmt: skip
SPOT_TICKER = {
    "instId": "BTCUSDT", "lastPr": "30000.10", "open24h": "29800", "high24h": "30100", "low24h": "29700",
    "change24h": "0.0067", "bidPr": "30000", "askPr": "30000.2", "bidSz": "0.5", "askSz": "0.7",
    "baseVolume": "100.0", "quoteVolume": "3000000.0", "openUtc": "29900", "changeUtc24h": "0.003",
}  # fmt: skip


class FakeBitget(FakeExchange):
    paths = ("/v2/ws/public",)

    def __init__(self, *, idle_timeout: float | None = 120.0, max_age: float | None = None) -> None:
        super().__init__(idle_timeout=idle_timeout, max_age=max_age)
        self.tickers: dict[tuple[str, str], dict[str, Any]] = {}
        self.candles: dict[tuple[str, str], list[list[str]]] = {}
        self.kicked = 0

    @property
    def url(self) -> str:
        return f"{self.base_url}/v2/ws/public"

    def seed(self, symbol: str = "BTCUSDT", shared: Path | None = None) -> None:
        """Starting tickers and candle history: the real futures ticker capture when `shared` is given."""
        futures = dict(FUTURES_TICKER)
        if shared is not None:
            capture = shared / "bitget-samples/real-ws-tardis/v2_futures_ticker_snapshot_USDT-FUTURES_STORJUSDT.json"
            futures = json.loads(capture.read_text())["data"][0]
        self.tickers[("USDT-FUTURES", symbol)] = {**futures, "instId": symbol, "symbol": symbol}
        self.tickers[("SPOT", symbol)] = {**SPOT_TICKER, "instId": symbol}
        start = 1_700_000_000_000 - 3 * 60_000
        for inst_type in ("USDT-FUTURES", "SPOT"):
            self.candles[(inst_type, symbol)] = [
                [str(start + n * 60_000), "30000", "30010", "29990", "30005", "1.5", "45007.5", "45007.5"]
                for n in range(3)
            ]

    async def on_frame(self, session: Session, text: str) -> None:
        if self._over_rate_limit(session):
            self.kicked += 1
            await session.close("too many messages", 1008)
            return
        if text == "ping":
            session.pings += 1
            session.last_ping_at = asyncio.get_running_loop().time()
            await session.send("pong")
            return
        try:
            request = json.loads(text)
        except ValueError:
            await session.send({"event": "error", "code": 30016, "msg": "param error"})
            return
        if request.get("op") != "subscribe":
            await session.send({"event": "error", "code": 30016, "msg": f"unknown op {request.get('op')}"})
            return
        for arg in request.get("args", []):
            await self._subscribe(session, arg)

    def _over_rate_limit(self, session: Session) -> bool:
        window: deque[float] = session.__dict__.setdefault("window", deque())
        now = asyncio.get_running_loop().time()
        window.append(now)
        while window and now - window[0] > 1.0:
            window.popleft()
        return len(window) > MAX_MESSAGES_PER_SECOND

    async def _subscribe(self, session: Session, arg: dict[str, Any]) -> None:
        inst_type, channel, symbol = arg.get("instType"), arg.get("channel"), arg.get("instId")
        if inst_type not in INST_TYPES or channel not in CHANNELS or not symbol:
            text = f"instType:{inst_type},channel:{channel},instId:{symbol} doesn't exist"
            await session.send({"event": "error", "arg": arg, "code": 30001, "msg": text})
            return
        session.subscribed.add((inst_type, channel, symbol))
        await session.send({"event": "subscribe", "arg": arg})
        key = (inst_type, symbol)
        if channel == "ticker" and key in self.tickers:
            await session.send(self._push("snapshot", inst_type, channel, symbol, [self._ticker_row(key)]))
        elif channel == "candle1m" and key in self.candles:
            await session.send(self._push("snapshot", inst_type, channel, symbol, self.candles[key]))

    def _push(
        self, action: str, inst_type: str, channel: str, symbol: str, data: list[Any], ts: int | None = None
    ) -> dict[str, Any]:
        arg = {"instType": inst_type, "channel": channel, "instId": symbol}
        return {"action": action, "arg": arg, "data": data, "ts": ts if ts is not None else self.now()}

    def _ticker_row(self, key: tuple[str, str], ts: int | None = None) -> dict[str, Any]:
        row = self.tickers[key]
        row["ts"] = str(ts if ts is not None else self.now())
        return dict(row)

    async def set_ticker(self, inst_type: str, symbol: str, *, ts: int | None = None, **changes: str) -> int:
        """Every push is a full snapshot (Bitget has no field-level deltas)."""
        key = (inst_type, symbol)
        self.tickers.setdefault(key, {"instId": symbol}).update(changes)
        message = self._push("snapshot", inst_type, "ticker", symbol, [self._ticker_row(key, ts)], ts)
        return await self.publish((inst_type, "ticker", symbol), message)

    async def trade(
        self,
        inst_type: str,
        symbol: str,
        *,
        price: str,
        size: str,
        side: str = "buy",
        ts: int | None = None,
        trade_id: str | None = None,
    ) -> int:
        ts = ts if ts is not None else self.now()
        row = {"ts": str(ts - 3), "price": price, "size": size, "side": side, "tradeId": trade_id or str(ts)}
        return await self.publish(
            (inst_type, "trade", symbol), self._push("update", inst_type, "trade", symbol, [row], ts)
        )

    async def candle(
        self, inst_type: str, symbol: str, *, start: int, open: str, high: str, low: str, close: str, volume: str = "1"
    ) -> int:
        row = [str(start), open, high, low, close, volume, volume, volume]
        rows = self.candles.setdefault((inst_type, symbol), [])
        rows[:] = [r for r in rows if r[0] != row[0]] + [row]
        return await self.publish(
            (inst_type, "candle1m", symbol), self._push("update", inst_type, "candle1m", symbol, [row])
        )
