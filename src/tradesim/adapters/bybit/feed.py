"""Bybit v5 public WebSocket: one connection per category (`{base}/linear`, `{base}/spot`).

Linear: `tickers` (snapshot then deltas merged here, with bid/ask), `publicTrade`, `kline.1`.
Spot: the same plus `orderbook.1`, because the spot ticker has no bid/ask: a spot `Ticker`
combines the last price of `tickers` with the best levels of `orderbook.1`.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

import msgspec

from tradesim.adapters.bybit.parse import (
    TickerFields,
    apply_levels,
    candles,
    control_kind,
    linear_ticker,
    spot_ticker,
    ticker_fields,
    trades,
)
from tradesim.adapters.wsfeed.config import FeedConfig
from tradesim.adapters.wsfeed.dialect import Unusable
from tradesim.adapters.wsfeed.feed import WebSocketFeed
from tradesim.adapters.wsfeed.fields import ms_field
from tradesim.adapters.wsfeed.framing import chunked
from tradesim.adapters.wsfeed.ordering import Recency, TradeFilter
from tradesim.adapters.wsfeed.stats import FeedStats
from tradesim.domain.enums import Category
from tradesim.domain.market import MarketEvent

log = logging.getLogger("tradesim.feed")

#: Bybit allows at most 10 args per subscribe request on spot [BD-connect].
MAX_SPOT_ARGS = 10
#: ...and at most 21,000 characters of serialised args per request on any public connection.
MAX_ARGS_CHARS = 21_000
PING = '{"op":"ping"}'

Handler = Callable[[dict[str, Any]], list[MarketEvent]]
_decode_json = msgspec.json.Decoder().decode


def topics(category: Category, symbols: Sequence[str]) -> list[str]:
    names = ["tickers", "publicTrade", "kline.1"] + (["orderbook.1"] if category is Category.SPOT else [])
    return [f"{name}.{symbol}" for symbol in symbols for name in names]


def chunk_args(args: Sequence[str], max_args: int | None, max_chars: int = MAX_ARGS_CHARS) -> list[list[str]]:
    """Subscribe args split into requests within the count and serialised-length limits."""
    # Each arg costs its length plus quotes and a comma in the serialised array; 2 for the brackets.
    return chunked(args, max_items=max_args, max_chars=max_chars - 2, size=lambda arg: len(arg) + 3)


class _Book:
    __slots__ = ("asks", "bids", "ts")

    def __init__(self) -> None:
        self.bids: dict[Decimal, Decimal] = {}
        self.asks: dict[Decimal, Decimal] = {}
        self.ts = 0


class BybitDialect:
    """Bybit v5 public protocol for one category. Holds the state that merging needs; no I/O."""

    heartbeat_interval = 20.0  # Bybit: send {"op":"ping"} every 20 s
    send_interval = 0.05

    def __init__(self, category: Category, symbols: Sequence[str], stats: FeedStats) -> None:
        self.category = category
        self.symbols = frozenset(symbols)
        self.instruments = tuple((category, symbol) for symbol in symbols)
        self._ordered_symbols = tuple(symbols)
        self._stats = stats
        self._routes: dict[str, Handler] = {}
        # Per connection: a new connection re-sends snapshots.
        self._tickers: dict[str, TickerFields] = {}
        self._books: dict[str, _Book] = {}
        self._last: dict[str, tuple[Decimal, int]] = {}
        # Across connections: ordering and de-duplication.
        self._recency = Recency()
        self._ticker_ts: dict[str, int] = {}  # linear tickers: Recency, inlined on the hot path
        self._trade_filter = TradeFilter()
        self._closed: dict[tuple[str, str], int] = {}

    def subscribe_frames(self) -> list[str]:
        max_args = MAX_SPOT_ARGS if self.category is Category.SPOT else None
        chunks = chunk_args(topics(self.category, self._ordered_symbols), max_args)
        return [
            json.dumps({"req_id": f"sub-{n}", "op": "subscribe", "args": chunk}, separators=(",", ":"))
            for n, chunk in enumerate(chunks, 1)
        ]

    def ping_frame(self) -> str:
        return PING

    def on_connect(self) -> None:
        self._tickers.clear()
        self._books.clear()
        self._last.clear()

    def decode(self, frame: str | bytes) -> list[MarketEvent] | None:
        try:
            message = _decode_json(frame)
        except msgspec.DecodeError:
            raise Unusable("not_json", repr(frame[:80])) from None
        if message.__class__ is not dict:
            raise Unusable("malformed", "not a JSON object")
        topic = message.get("topic")  # `handle`, inlined: this runs for every frame
        if topic is None:
            self._control(message)
            return None
        handler = self._routes.get(topic) or self._route(topic)
        return handler(message)

    def handle(self, message: dict[str, Any]) -> list[MarketEvent] | None:
        """Events of one decoded message, or None for a control message."""
        topic = message.get("topic")
        if topic is None:
            self._control(message)
            return None
        handler = self._routes.get(topic) or self._route(topic)
        return handler(message)

    def _control(self, message: dict[str, Any]) -> None:
        kind = control_kind(message)
        if kind == "unknown":
            raise Unusable("unknown_message", str(message)[:200])
        self._stats.count(kind)
        if kind.endswith("_failed"):
            log.error("bybit-%s: %s: %s", self.category.value, kind, message.get("ret_msg", message))

    def _route(self, topic: str) -> Handler:
        name, _, rest = topic.partition(".")
        handler: Callable[..., list[MarketEvent]] | None = None
        symbol = rest
        if name == "tickers":
            handler = self._linear_ticker if self.category is Category.LINEAR else self._spot_ticker
        elif name == "publicTrade":
            handler = self._trades
        elif name == "kline":
            symbol = rest.partition(".")[2]
            handler = self._kline
        elif name == "orderbook" and self.category is Category.SPOT and rest.startswith("1."):
            symbol = rest[2:]
            handler = self._book
        if handler is None:
            raise Unusable("unsupported_topic", topic)
        if symbol not in self.symbols:
            raise Unusable("unsubscribed_symbol", topic)
        bound: Handler = functools.partial(handler, symbol)
        self._routes[topic] = bound
        return bound

    def _stale(self, what: str, symbol: str, ts: int) -> list[MarketEvent]:
        self._stats.drop("out_of_order", f"{what}.{symbol} ts {ts} is older than the last one seen")
        return []

    def _linear_ticker(self, symbol: str, message: dict[str, Any]) -> list[MarketEvent]:
        kind = message["type"]
        ts = message["ts"]
        if ts.__class__ is not int:
            ts = ms_field(ts, "ts")
        data = message["data"]
        if data.get("symbol", symbol) != symbol:
            raise Unusable("malformed", f"tickers.{symbol} carries {data.get('symbol')!r}")
        fields = ticker_fields(data)
        if kind == "snapshot":
            state = fields
        elif kind == "delta":
            previous = self._tickers.get(symbol)
            if previous is None:
                raise Unusable("delta_before_snapshot", f"tickers.{symbol}")
            state = previous
        else:
            raise Unusable("malformed", f"tickers type {kind!r}")
        last_ts = self._ticker_ts.get(symbol)
        if last_ts is not None and ts < last_ts:
            return self._stale("tickers", symbol, ts)
        self._ticker_ts[symbol] = ts
        if state is fields:
            self._tickers[symbol] = state
        else:
            state.update(fields)  # a delta: absent keys are unchanged
        return [linear_ticker(symbol, state, ts)]

    def _spot_ticker(self, symbol: str, message: dict[str, Any]) -> list[MarketEvent]:
        ts = ms_field(message["ts"], "ts")
        last = ticker_fields(message["data"]).get("last")
        if last is None:
            raise Unusable("incomplete_ticker", f"tickers.{symbol} has no lastPrice")
        if not self._recency.admit(("tickers", symbol), ts):
            return self._stale("tickers", symbol, ts)
        self._last[symbol] = (last, ts)
        return self._spot(symbol)

    def _book(self, symbol: str, message: dict[str, Any]) -> list[MarketEvent]:
        kind = message["type"]
        ts = ms_field(message["ts"], "ts")
        data = message["data"]
        book = self._books.get(symbol)
        # A snapshot, or u == 1 (Bybit restarted the book service), replaces the book.
        if kind == "snapshot" or data.get("u") == 1:
            bids: dict[Decimal, Decimal] = {}
            asks: dict[Decimal, Decimal] = {}
        elif kind == "delta" and book is not None:
            bids, asks = dict(book.bids), dict(book.asks)
        elif kind == "delta":
            raise Unusable("delta_before_snapshot", f"orderbook.1.{symbol}")
        else:
            raise Unusable("malformed", f"orderbook type {kind!r}")
        apply_levels(bids, data["b"])  # into copies: a malformed level leaves the book as it was
        apply_levels(asks, data["a"])
        if not self._recency.admit(("orderbook", symbol), ts):
            return self._stale("orderbook.1", symbol, ts)
        if book is None:
            book = self._books[symbol] = _Book()
        book.bids, book.asks, book.ts = bids, asks, ts
        return self._spot(symbol)

    def _spot(self, symbol: str) -> list[MarketEvent]:
        last = self._last.get(symbol)
        book = self._books.get(symbol)
        if last is None or book is None or not book.bids or not book.asks:
            return []  # not both halves yet: never invent a bid/ask from the last price
        bid = max(book.bids)
        ask = min(book.asks)
        return [spot_ticker(symbol, last[0], bid, ask, book.bids[bid], book.asks[ask], max(last[1], book.ts))]

    def _trades(self, symbol: str, message: dict[str, Any]) -> list[MarketEvent]:
        admit = self._trade_filter.admit
        found: list[MarketEvent] = []
        for trade in trades(message["data"], self.category):
            if trade.symbol != symbol:
                raise Unusable("malformed", f"publicTrade.{symbol} carries {trade.symbol!r}")
            if admit(symbol, trade.ts, trade.trade_id):
                found.append(trade)
            else:
                self._stats.drop("trade_replayed", f"{symbol} trade {trade.trade_id} at {trade.ts}")
        return found

    def _kline(self, symbol: str, message: dict[str, Any]) -> list[MarketEvent]:
        found: list[MarketEvent] = []
        for candle in candles(symbol, message["data"], self.category):
            key = (symbol, candle.interval)
            closed_until = self._closed.get(key)
            if closed_until is not None and candle.open_time <= closed_until:
                self._stats.drop("candle_after_close", f"{symbol} {candle.interval} bar {candle.open_time}")
                continue
            if candle.closed:
                self._closed[key] = candle.open_time
            found.append(candle)
        return found


def bybit_feed(base_url: str, category: Category, config: FeedConfig | None = None, **options: Any) -> WebSocketFeed:
    """The feed of one Bybit category; `base_url` is the public base (`.../v5/public`)."""

    def dialect(symbols: Sequence[str], stats: FeedStats) -> BybitDialect:
        return BybitDialect(category, symbols, stats)

    url = f"{base_url.rstrip('/')}/{category.value}"
    return WebSocketFeed(f"bybit-{category.value}", url, dialect, config, **options)
