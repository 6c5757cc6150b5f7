"""The latest ticker of every streamed symbol, fed by the price bus; pushed to `tickers.{SYMBOL}`."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from decimal import Decimal

import structlog

from tradesim.domain.market import Candle, Ticker, Trade
from tradesim.entrypoints.http import presenters
from tradesim.entrypoints.http.bybit import market_records
from tradesim.entrypoints.http.bybit import records as bybit_records
from tradesim.entrypoints.http.ws.hub import Hub, encode
from tradesim.ports.messaging import PriceBus

log = structlog.get_logger("tradesim.api")


class TickerCache:
    def __init__(self, symbols: Iterable[str]) -> None:
        self.symbols = tuple(symbols)
        self._latest: dict[str, Ticker] = {}
        self._marks: dict[str, Decimal] = {}

    def update(self, ticker: Ticker) -> None:
        self._latest[ticker.symbol] = ticker
        self._marks[ticker.symbol] = ticker.mark_price

    def get(self, symbol: str) -> Ticker | None:
        return self._latest.get(symbol)

    def last_price(self, symbol: str) -> Decimal | None:
        ticker = self._latest.get(symbol)
        return ticker.last_price if ticker is not None else None

    def marks(self) -> dict[str, Decimal]:
        return dict(self._marks)


def ticker_frame(ticker: Ticker) -> str:
    """Bybit's ticker push, encoded once for every subscriber."""
    return encode(
        {"topic": f"tickers.{ticker.symbol}", "type": "snapshot", "ts": ticker.ts, "data": presenters.ticker(ticker)}
    )


def v5_frames(ticker: Ticker) -> list[tuple[str, str]]:
    """The ticker as `/v5/public/{category}` pushes it: (hub topic, frame) for `tickers.{symbol}`
    and `orderbook.1.{symbol}` (depth 1, the ticker's best bid and ask), in Bybit's records."""
    category, symbol, ts = ticker.category.value, ticker.symbol, ticker.ts
    book = {
        "s": symbol,
        "b": [[bybit_records.num(ticker.bid_price), bybit_records.num(ticker.bid_size)]],
        "a": [[bybit_records.num(ticker.ask_price), bybit_records.num(ticker.ask_size)]],
        "u": ts,
        "seq": ts,
    }
    tickers = {
        "topic": f"tickers.{symbol}",
        "type": "snapshot",
        "data": market_records.ticker(ticker),
        "cs": ts,
        "ts": ts,
    }
    orderbook = {"topic": f"orderbook.1.{symbol}", "type": "snapshot", "ts": ts, "data": book, "cts": ts}
    return [
        (f"v5.{category}.tickers.{symbol}", encode(tickers)),
        (f"v5.{category}.orderbook.1.{symbol}", encode(orderbook)),
    ]


def v5_trade_frame(trade: Trade) -> tuple[str, str]:
    """A public trade as `/v5/public/{category}` pushes `publicTrade.{symbol}`."""
    record = {
        "T": trade.ts,
        "s": trade.symbol,
        "S": trade.side.value,
        "v": bybit_records.num(trade.qty),
        "p": bybit_records.num(trade.price),
        "i": trade.trade_id,
        "BT": False,
    }
    message = {"topic": f"publicTrade.{trade.symbol}", "type": "snapshot", "ts": trade.ts, "data": [record]}
    return f"v5.{trade.category.value}.publicTrade.{trade.symbol}", encode(message)


def v5_kline_frame(candle: Candle) -> tuple[str, str] | None:
    """A 1m candle as `/v5/public/{category}` pushes `kline.1.{symbol}` (None for other intervals)."""
    if candle.interval != "1m":
        return None
    record = {
        "start": candle.open_time,
        "end": candle.close_time,
        "interval": "1",
        "open": bybit_records.num(candle.open),
        "close": bybit_records.num(candle.close),
        "high": bybit_records.num(candle.high),
        "low": bybit_records.num(candle.low),
        "volume": bybit_records.num(candle.volume),
        "turnover": bybit_records.num(candle.turnover),
        "confirm": candle.closed,
        "timestamp": candle.close_time,
    }
    message = {"topic": f"kline.1.{candle.symbol}", "type": "snapshot", "ts": candle.close_time, "data": [record]}
    return f"v5.{candle.category.value}.kline.1.{candle.symbol}", encode(message)


async def pump_prices(bus: PriceBus, cache: TickerCache, hub: Hub) -> None:
    """Runs for the app's life: every ticker updates the cache; the latest one goes to its subscribers.

    Tickers are snapshots, so when the fan-out falls behind (thousands of sockets, a fast feed) the
    ones it has not sent yet are replaced by newer ones instead of queuing: latest wins, as on the
    price bus itself, and delivery latency stays bounded by one fan-out.
    """
    dirty: dict[str, Ticker] = {}
    arrived = asyncio.Event()

    async def fan_out() -> None:
        while True:
            await arrived.wait()
            arrived.clear()
            while dirty:
                symbol, ticker = dirty.popitem()
                await hub.broadcast(f"tickers.{symbol}", ticker_frame(ticker), snapshot=True)
                for topic, frame in v5_frames(ticker):
                    await hub.broadcast(topic, frame, snapshot=True)

    sender = asyncio.create_task(fan_out())
    subscription = bus.subscribe(cache.symbols)
    try:
        async for event in subscription:
            if isinstance(event, Ticker) and event.symbol in cache.symbols:
                cache.update(event)
                dirty[event.symbol] = event
                arrived.set()
            elif isinstance(event, Trade | Candle):
                # Only `/v5/public` shows these, and only to its subscribers (nothing is encoded otherwise).
                topic = f"v5.{event.category.value}.{'publicTrade' if isinstance(event, Trade) else 'kline.1'}"
                if hub.audience(f"{topic}.{event.symbol}"):
                    framed = v5_trade_frame(event) if isinstance(event, Trade) else v5_kline_frame(event)
                    if framed is not None:
                        hub.publish(*framed)
    finally:
        sender.cancel()
        await subscription.aclose()
