"""Bitget v2 public messages to domain events: pure functions over decoded JSON.

Wire format: `../shared/protocols/bitget-v2.md`. Numbers are strings (the ticker's own `ts`
too), tickers are full snapshots on every push, candle rows are arrays of 8 strings with no
"closed" flag.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tradesim.adapters.wsfeed.dialect import Unusable
from tradesim.adapters.wsfeed.fields import decimal_field, ms_field, optional_decimal
from tradesim.domain.enums import Category, Side
from tradesim.domain.market import Candle, Ticker, Trade

#: instType -> category. COIN-FUTURES (inverse) and USDC-FUTURES have no place in the domain yet.
INST_TYPES = {"USDT-FUTURES": Category.LINEAR, "SPOT": Category.SPOT}
CHANNELS = ("ticker", "trade", "candle1m")
SIDES = {"buy": Side.BUY, "sell": Side.SELL}
_ACKS = {"subscribe": "subscribed", "unsubscribe": "unsubscribed", "login": "authenticated", "error": "error"}


def ticker(symbol: str, row: Mapping[str, Any], category: Category) -> Ticker:
    """A `ticker` push row. Spot has no mark price or funding: mark is the last price."""
    last = decimal_field(row["lastPr"], "lastPr")
    if category is Category.LINEAR:
        mark = decimal_field(row["markPrice"], "markPrice")
        funding_rate = optional_decimal(row.get("fundingRate", ""), "fundingRate")
        funding_time = row.get("nextFundingTime", "")
        next_funding = None if funding_time in ("", "0", 0) else ms_field(funding_time, "nextFundingTime")
    else:
        mark, funding_rate, next_funding = last, None, None
    return Ticker(
        symbol,
        last,
        decimal_field(row["bidPr"], "bidPr"),
        decimal_field(row["askPr"], "askPr"),
        mark,
        ms_field(row["ts"], "ts"),
        category,
        funding_rate,
        next_funding,
        decimal_field(row["bidSz"], "bidSz"),
        decimal_field(row["askSz"], "askSz"),
    )


def trades(symbol: str, rows: Any, category: Category) -> list[Trade]:
    """`trade` rows in time order (Bitget sends them newest first); `side` is the taker side."""
    if rows.__class__ is not list:
        raise Unusable("malformed", "trade data is not a list")
    found = []
    for row in rows:
        side = SIDES.get(row["side"])
        if side is None:
            raise Unusable("malformed", f"trade side {row['side']!r}")
        found.append(
            Trade(
                symbol,
                decimal_field(row["price"], "price"),
                decimal_field(row["size"], "size"),
                side,
                ms_field(row["ts"], "ts"),
                str(row["tradeId"]),
                category,
            )
        )
    found.sort(key=lambda trade: trade.ts)
    return found


def candle(symbol: str, row: Any, category: Category, *, closed: bool) -> Candle:
    """A `candle1m` row: [start, open, high, low, close, baseVolume, quoteVolume, usdtVolume]."""
    if row.__class__ is not list or len(row) < 7:
        raise Unusable("malformed", f"candle row {row!r}")
    return Candle(
        symbol,
        ms_field(row[0], "startTime"),
        decimal_field(row[1], "open"),
        decimal_field(row[2], "high"),
        decimal_field(row[3], "low"),
        decimal_field(row[4], "close"),
        decimal_field(row[5], "baseVolume"),
        "1m",
        decimal_field(row[6], "quoteVolume"),
        closed,
        category,
    )


def control_kind(message: Mapping[str, Any]) -> str:
    """subscribed / unsubscribed / authenticated / error, or unknown."""
    return _ACKS.get(message.get("event"), "unknown")  # type: ignore[arg-type]
