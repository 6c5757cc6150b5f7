"""Streamer benchmark, first part: how fast the Bybit dialect parses and normalises messages.

    uv run python bench/streamer.py [--messages 200000]

A realistic Bybit linear stream (ticker deltas, public trades, kline updates over several
symbols) goes through `BybitDialect.decode`: JSON, routing, delta merging, domain events.
No network and no Redis yet: the end-to-end figures come with the streamer itself.
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from typing import Any

import msgspec

from tradesim.adapters.bybit.feed import BybitDialect
from tradesim.adapters.wsfeed.stats import FeedStats
from tradesim.domain.enums import Category

SYMBOLS = ("BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT")
_encode = msgspec.json.Encoder().encode


def market_messages(count: int, start_ts: int) -> tuple[list[bytes], int]:
    """A Bybit linear stream: 60% ticker deltas, 35% public trades (1-2 trades), 5% kline updates.

    Returns the encoded messages and how many events the streamer should make of them.
    """
    messages: list[bytes] = []
    events = 0
    minute = start_ts - start_ts % 60_000
    for n in range(count):
        symbol = SYMBOLS[n % len(SYMBOLS)]
        ts = start_ts + n // 20
        cents = 3_000_000 + (n * 7919) % 2000  # a price wandering on the 0.01 grid
        bid = f"{cents // 100}.{cents % 100:02d}"
        ask = f"{(cents + 10) // 100}.{(cents + 10) % 100:02d}"
        kind = n % 20
        if kind < 12:
            data: dict[str, Any] = {
                "symbol": symbol, "price24hPcnt": "0.012", "bid1Price": bid, "bid1Size": f"{1 + n % 50}.{n % 1000:03d}",
                "ask1Price": ask, "ask1Size": f"{2 + n % 40}.{n % 997:03d}", "openInterest": str(40000 + n % 777),
            }  # fmt: skip
            if kind % 3 == 0:
                data.update(lastPrice=ask, markPrice=bid, indexPrice=bid)
            message: dict[str, Any] = {"topic": f"tickers.{symbol}", "type": "delta", "data": data, "cs": n, "ts": ts}
            events += 1
        elif kind < 19:
            trades = [{"T": ts - 1, "s": symbol, "S": "Buy" if n % 2 else "Sell", "v": f"0.{1 + n % 999:03d}",
                       "p": ask if n % 2 else bid, "L": "PlusTick", "i": f"{uuid.UUID(int=n * 2 + t)}", "BT": False}
                      for t in range(1 + n % 2)]  # fmt: skip
            message = {"topic": f"publicTrade.{symbol}", "type": "snapshot", "ts": ts, "data": trades}
            events += len(trades)
        else:
            row = {"start": minute, "end": minute + 59_999, "interval": "1", "open": "30000.00", "close": bid,
                   "high": "30100.00", "low": "29900.00", "volume": f"{n % 500}.5", "turnover": "1500000.5",
                   "confirm": False, "timestamp": ts}  # fmt: skip
            message = {"topic": f"kline.1.{symbol}", "data": [row], "ts": ts, "type": "snapshot"}
            events += 1
        messages.append(_encode(message))
    return messages, events


def parse_only(messages: list[bytes]) -> float:
    """Messages per second through the Bybit dialect alone (decode, route, merge, build events)."""
    dialect = BybitDialect(Category.LINEAR, SYMBOLS, FeedStats("bench"))
    for symbol in SYMBOLS:  # the snapshots a subscription starts with
        dialect.handle(_snapshot(symbol))
    started = time.perf_counter()
    for message in messages:
        dialect.decode(message)
    return len(messages) / (time.perf_counter() - started)


def _snapshot(symbol: str) -> dict[str, Any]:
    data = {"symbol": symbol, "lastPrice": "30000.00", "markPrice": "30000.00", "bid1Price": "29999.90",
            "bid1Size": "1", "ask1Price": "30000.00", "ask1Size": "1", "fundingRate": "0.0001",
            "nextFundingTime": "1700006400000"}  # fmt: skip
    return {"topic": f"tickers.{symbol}", "type": "snapshot", "data": data, "cs": 0, "ts": 1_600_000_000_000}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=200_000)
    args = parser.parse_args()
    messages, events = market_messages(args.messages, 1_700_000_000_000)
    rate = parse_only(messages)
    print(f"parse + normalise only (no network, no Redis): {rate:,.0f} messages/s ({events:,} events)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
