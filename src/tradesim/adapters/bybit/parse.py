"""Bybit v5 public messages to domain events: pure functions over decoded JSON.

Wire format: `../shared/protocols/bybit-v5.md`. Prices and sizes are strings, envelope
timestamps are integers; a ticker delta carries only the fields that changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from tradesim.adapters.wsfeed.dialect import Unusable
from tradesim.adapters.wsfeed.fields import decimal_field, ms_field, optional_decimal
from tradesim.domain.enums import Category, Side
from tradesim.domain.market import Candle, Ticker, Trade

#: Bybit kline intervals the domain's `Candle` knows.
INTERVALS = {"1": "1m", "3": "3m", "5": "5m", "15": "15m", "60": "1h"}
SIDES = {"Buy": Side.BUY, "Sell": Side.SELL}
_ACKS = {"subscribe": "subscribed", "unsubscribe": "unsubscribed", "auth": "authenticated"}

#: tickers `data` key -> our name. Only these are kept; the rest (24 h stats, open interest) are not used.
_TICKER_DECIMALS = (
    ("lastPrice", "last"),
    ("bid1Price", "bid"),
    ("ask1Price", "ask"),
    ("markPrice", "mark"),
    ("bid1Size", "bid_size"),
    ("ask1Size", "ask_size"),
    ("fundingRate", "funding_rate"),
)

TickerFields = dict[str, Any]


def ticker_fields(data: Mapping[str, Any]) -> TickerFields:
    """The fields of a `tickers` push that we keep, parsed.

    A key absent from `data` is absent from the result: in a delta it means "unchanged"
    (merge with `dict.update`). An empty string is present and means "no value" (None), as
    in `fundingRate` of dated futures.
    """
    fields: TickerFields = {}
    # The hot path of the feed: decimals parsed inline rather than through `decimal_field`.
    for key, name in _TICKER_DECIMALS:
        value = data.get(key)
        if value is None:
            continue
        if value.__class__ is not str:
            raise Unusable("malformed", f"{key}={value!r} is not a decimal string")
        if not value:
            fields[name] = None
            continue
        try:
            parsed = Decimal(value)
        except InvalidOperation:
            raise Unusable("malformed", f"{key}={value!r} is not a decimal") from None
        if not parsed.is_finite():
            raise Unusable("malformed", f"{key}={value!r} is not finite")
        fields[name] = parsed
    funding_time = data.get("nextFundingTime")
    if funding_time is not None:
        fields["next_funding_time"] = None if funding_time in ("", "0") else ms_field(funding_time, "nextFundingTime")
    return fields


def linear_ticker(symbol: str, fields: TickerFields, ts: int) -> Ticker:
    """A linear ticker from the merged fields (snapshot plus every delta since)."""
    last = fields.get("last")
    bid = fields.get("bid")
    ask = fields.get("ask")
    mark = fields.get("mark")
    if last is None or bid is None or ask is None or mark is None:
        missing = [k for k in ("last", "bid", "ask", "mark") if fields.get(k) is None]
        raise Unusable("incomplete_ticker", f"{symbol}: no {', '.join(missing)} yet")
    return Ticker(
        symbol,
        last,
        bid,
        ask,
        mark,
        ts,
        Category.LINEAR,
        fields.get("funding_rate"),
        fields.get("next_funding_time"),
        fields.get("bid_size"),
        fields.get("ask_size"),
    )


def spot_ticker(
    symbol: str, last: Decimal, bid: Decimal, ask: Decimal, bid_size: Decimal, ask_size: Decimal, ts: int
) -> Ticker:
    """Spot tickers carry no book and no mark price: bid/ask come from `orderbook.1`, mark is the last price."""
    return Ticker(symbol, last, bid, ask, last, ts, Category.SPOT, None, None, bid_size, ask_size)


def trades(data: Any, category: Category) -> list[Trade]:
    """`publicTrade` rows (ascending by match time) as trades; `S` is the taker side."""
    if data.__class__ is not list:
        raise Unusable("malformed", "publicTrade data is not a list")
    found = []
    for row in data:
        side = SIDES.get(row["S"])
        if side is None:
            raise Unusable("malformed", f"trade side {row['S']!r}")
        found.append(
            Trade(
                row["s"],
                decimal_field(row["p"], "p"),
                decimal_field(row["v"], "v"),
                side,
                ms_field(row["T"], "T"),
                str(row["i"]),
                category,
            )
        )
    return found


def candles(symbol: str, data: Any, category: Category) -> list[Candle]:
    """`kline` rows as candles; `confirm: true` marks the bar closed (final)."""
    if data.__class__ is not list:
        raise Unusable("malformed", "kline data is not a list")
    found = []
    for row in data:
        interval = INTERVALS.get(row["interval"])
        if interval is None:
            raise Unusable("unsupported_interval", f"kline interval {row['interval']!r}")
        confirm = row["confirm"]
        if confirm.__class__ is not bool:
            raise Unusable("malformed", f"kline confirm {confirm!r}")
        found.append(
            Candle(
                symbol,
                ms_field(row["start"], "start"),
                decimal_field(row["open"], "open"),
                decimal_field(row["high"], "high"),
                decimal_field(row["low"], "low"),
                decimal_field(row["close"], "close"),
                decimal_field(row["volume"], "volume"),
                interval,
                optional_decimal(row.get("turnover", ""), "turnover"),
                confirm,
                category,
            )
        )
    return found


def apply_levels(side: dict[Decimal, Decimal], levels: Any) -> None:
    """Apply `orderbook` levels to one side of a book: size 0 deletes the price, else sets it."""
    for price, size in levels:
        p = decimal_field(price, "price")
        s = decimal_field(size, "size")
        if s:
            side[p] = s
        else:
            side.pop(p, None)


def control_kind(message: Mapping[str, Any]) -> str:
    """What a message without a `topic` is: pong, subscribed, subscribe_failed, ... or unknown.

    Pongs differ by market: spot/linear reply `op: "ping"` with `ret_msg: "pong"`, option and
    private reply `op: "pong"`. Option acks have `type: COMMAND_RESP` and no `op`.
    """
    op = message.get("op")
    if op == "pong" or (op == "ping" and message.get("ret_msg") == "pong"):
        return "pong"
    if op in _ACKS:
        return _ACKS[op] if message.get("success") is True else f"{op}_failed"
    if message.get("type") == "COMMAND_RESP":
        return "subscribed" if message.get("success") is True else "subscribe_failed"
    if op == "ping":
        return "ping"  # a client's ping (seen only in recordings of both directions)
    return "unknown"
