"""Bitget v2 public WebSocket: one connection for every instType (`USDT-FUTURES`, `SPOT`).

Channels `ticker`, `trade`, `candle1m` per symbol. The heartbeat is the bare text `ping`
(answered by `pong`). Bitget closes every connection once a day; the feed reconnects at
once after a connection that lived long (see `FeedConfig.healthy_after`).

Candles carry no "closed" flag: a bar is final once a row with a later start arrives, so
the closed candle is emitted then, with the last values seen for it.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable, Sequence
from typing import Any

import attrs
import msgspec

from tradesim.adapters.bitget.parse import CHANNELS, INST_TYPES, candle, control_kind, ticker, trades
from tradesim.adapters.wsfeed.config import FeedConfig
from tradesim.adapters.wsfeed.dialect import Unusable
from tradesim.adapters.wsfeed.feed import WebSocketFeed
from tradesim.adapters.wsfeed.fields import ms_field
from tradesim.adapters.wsfeed.framing import chunked
from tradesim.adapters.wsfeed.ordering import Recency, TradeFilter
from tradesim.adapters.wsfeed.stats import FeedStats
from tradesim.domain.enums import Category
from tradesim.domain.market import Candle, MarketEvent

log = logging.getLogger("tradesim.feed")

#: Bitget: at most 1000 channels per connection; it "strongly" suggests at most 50.
MAX_CHANNELS = 1000
SUGGESTED_CHANNELS = 50
#: No per-request limit is documented; small requests keep each frame well under 4 KB.
MAX_ARGS_PER_REQUEST = 40
MAX_REQUEST_CHARS = 4000

Handler = Callable[[dict[str, Any]], list[MarketEvent]]
_decode_json = msgspec.json.Decoder().decode


class BitgetDialect:
    """Bitget v2 public protocol. Holds ordering and candle state; no I/O."""

    heartbeat_interval = 30.0  # Bitget: send "ping" every 30 s; it drops a client silent for 2 min
    send_interval = 0.2  # at most 10 messages per second per connection, pings included: leave room

    def __init__(self, inst_types: Sequence[str], symbols: Sequence[str], stats: FeedStats) -> None:
        unknown = [t for t in inst_types if t not in INST_TYPES]
        if unknown or not inst_types:
            raise ValueError(f"unsupported Bitget instType(s) {unknown or 'none'}; supported: {', '.join(INST_TYPES)}")
        channels = len(inst_types) * len(symbols) * len(CHANNELS)
        if channels > MAX_CHANNELS:
            raise ValueError(f"{channels} Bitget channels on one connection; Bitget allows at most {MAX_CHANNELS}")
        if channels > SUGGESTED_CHANNELS:
            log.warning("bitget: %d channels on one connection (Bitget suggests <= %d)", channels, SUGGESTED_CHANNELS)
        self.inst_types = tuple(inst_types)
        self.symbols = frozenset(symbols)
        self.instruments = tuple((INST_TYPES[t], s) for t in inst_types for s in symbols)
        self._ordered_symbols = tuple(symbols)
        self._stats = stats
        self._routes: dict[tuple[str, str, str], Handler] = {}
        self._recency = Recency()
        self._trade_filter = TradeFilter()
        self._forming: dict[tuple[Category, str], Candle] = {}

    def subscribe_frames(self) -> list[str]:
        args = [
            {"instType": inst_type, "channel": channel, "instId": symbol}
            for inst_type in self.inst_types
            for symbol in self._ordered_symbols
            for channel in CHANNELS
        ]
        groups = chunked(
            args,
            max_items=MAX_ARGS_PER_REQUEST,
            max_chars=MAX_REQUEST_CHARS,
            size=lambda arg: len(json.dumps(arg, separators=(",", ":"))) + 1,
        )
        return [json.dumps({"op": "subscribe", "args": group}, separators=(",", ":")) for group in groups]

    def ping_frame(self) -> str:
        return "ping"

    def on_connect(self) -> None:
        """Nothing to forget: tickers are full snapshots, candles are tracked across connections."""

    def decode(self, frame: str | bytes) -> list[MarketEvent] | None:
        if frame == b"pong" or frame == "pong":  # plain text, not JSON
            self._stats.count("pong")
            return None
        try:
            message = _decode_json(frame)
        except msgspec.DecodeError:
            raise Unusable("not_json", repr(frame[:80])) from None
        if message.__class__ is not dict:
            raise Unusable("malformed", "not a JSON object")
        return self.handle(message)

    def handle(self, message: dict[str, Any]) -> list[MarketEvent] | None:
        """Events of one decoded message, or None for a control message."""
        if "action" not in message:
            self._control(message)
            return None
        arg = message["arg"]
        key = (arg.get("instType"), arg.get("channel"), arg.get("instId"))
        handler = self._routes.get(key) or self._route(arg)
        return handler(message)

    def _control(self, message: dict[str, Any]) -> None:
        kind = control_kind(message)
        if kind == "unknown":
            raise Unusable("unknown_message", str(message)[:200])
        self._stats.count(kind)
        if kind == "error":
            log.error("bitget: error %s: %s (%s)", message.get("code"), message.get("msg"), message.get("arg"))

    def _route(self, arg: dict[str, Any]) -> Handler:
        if "topic" in arg:
            raise Unusable("unsupported_dialect", f"a Bitget v3/UTA message ({arg}) on a v2 connection")
        inst_type, channel, symbol = arg.get("instType"), arg.get("channel"), arg.get("instId")
        category = INST_TYPES.get(inst_type)  # type: ignore[arg-type]
        if category is None or inst_type not in self.inst_types:
            raise Unusable("unsupported_inst_type", f"{inst_type} {channel} {symbol}")
        handlers = {"ticker": self._ticker, "trade": self._trades, "candle1m": self._candles}
        handler = handlers.get(channel)  # type: ignore[arg-type]
        if handler is None:
            raise Unusable("unsupported_channel", f"{inst_type} {channel} {symbol}")
        if symbol not in self.symbols:
            raise Unusable("unsubscribed_symbol", f"{inst_type} {channel} {symbol}")
        bound: Handler = functools.partial(handler, category, symbol)
        self._routes[(inst_type, channel, symbol)] = bound  # type: ignore[index]
        return bound

    def _ticker(self, category: Category, symbol: str, message: dict[str, Any]) -> list[MarketEvent]:
        found: list[MarketEvent] = []
        for row in message["data"]:
            if row.get("instId", symbol) != symbol:
                raise Unusable("malformed", f"ticker {symbol} carries {row.get('instId')!r}")
            event = ticker(symbol, row, category)
            if self._recency.admit((category, symbol), event.ts):
                found.append(event)
            else:
                self._stats.drop("out_of_order", f"ticker {symbol} ts {event.ts} is older than the last one seen")
        return found

    def _trades(self, category: Category, symbol: str, message: dict[str, Any]) -> list[MarketEvent]:
        admit = self._trade_filter.admit
        found: list[MarketEvent] = []
        for trade in trades(symbol, message["data"], category):
            if admit((category, symbol), trade.ts, trade.trade_id):
                found.append(trade)
            else:
                self._stats.drop("trade_replayed", f"{symbol} trade {trade.trade_id} at {trade.ts}")
        return found

    def _candles(self, category: Category, symbol: str, message: dict[str, Any]) -> list[MarketEvent]:
        """Track the forming bar; a row with a later start closes it (Bitget has no confirm flag).

        A snapshot may hold many past rows: each row closes the one before it, and rows older
        than the bar already tracked (re-sent after a reconnect) are history, skipped quietly.
        """
        rows = message["data"]
        if rows.__class__ is not list:
            raise Unusable("malformed", "candle data is not a list")
        snapshot = message["action"] == "snapshot"
        key = (category, symbol)
        forming = self._forming.get(key)
        found: list[MarketEvent] = []
        updated = False
        for row in sorted(rows, key=lambda r: ms_field(r[0], "startTime")):
            bar = candle(symbol, row, category, closed=False)
            if forming is not None and bar.open_time < forming.open_time:
                if not snapshot:
                    self._stats.drop("out_of_order", f"candle {symbol} {bar.open_time} after {forming.open_time}")
                continue
            if forming is not None and bar.open_time > forming.open_time:
                found.append(attrs.evolve(forming, closed=True))
            forming = bar
            updated = True
        if forming is not None and updated:
            self._forming[key] = forming
            found.append(forming)
        return found


def bitget_feed(
    url: str,
    inst_types: Sequence[str] = ("USDT-FUTURES",),
    config: FeedConfig | None = None,
    **options: Any,
) -> WebSocketFeed:
    """The Bitget feed of the given instTypes over one connection to `url` (`.../v2/ws/public`)."""

    def dialect(symbols: Sequence[str], stats: FeedStats) -> BitgetDialect:
        return BitgetDialect(inst_types, symbols, stats)

    return WebSocketFeed("bitget", url, dialect, config, **options)
