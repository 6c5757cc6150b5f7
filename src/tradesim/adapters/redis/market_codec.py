"""The price channel's wire format: compact JSON arrays, exact decimals as strings.

One message carries one or more events of one symbol: ``[1, event, event, ...]`` where ``1``
is the format version and each event is an array whose first item names its kind:

- ``["t", symbol, category, ts, last, bid, ask, mark, fundingRate, nextFundingTime, bid1Size, ask1Size]``
  (the last four may be null)
- ``["x", symbol, category, ts, price, qty, side, tradeId]`` (a public trade; side is the taker's)
- ``["c", symbol, category, openTime, interval, open, high, low, close, volume, turnover|null, closed]``
- ``["s", symbol, category, ts, stale]`` (feed status)

Enums travel as their values. Decimals travel as `str(Decimal)`, which reads back to the identical Decimal (digits and
exponent), never through float. Arrays instead of objects keep a ticker near 120 bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec

from tradesim.domain.enums import Category, Side
from tradesim.domain.errors import InvalidInput
from tradesim.domain.market import Candle, FeedStatus, MarketEvent, Ticker, Trade

VERSION = 1
_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder().decode


class CodecError(ValueError):
    """A payload that is not a price-channel message of a known version."""


def _opt(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def event_row(event: MarketEvent) -> list[Any]:
    if isinstance(event, Ticker):
        return [
            "t",
            event.symbol,
            event.category,
            event.ts,
            str(event.last_price),
            str(event.bid_price),
            str(event.ask_price),
            str(event.mark_price),
            _opt(event.funding_rate),
            event.next_funding_time,
            _opt(event.bid_size),
            _opt(event.ask_size),
        ]
    if isinstance(event, Trade):
        return [
            "x",
            event.symbol,
            event.category,
            event.ts,
            str(event.price),
            str(event.qty),
            event.side,
            event.trade_id,
        ]
    if isinstance(event, Candle):
        return [
            "c",
            event.symbol,
            event.category,
            event.open_time,
            event.interval,
            str(event.open),
            str(event.high),
            str(event.low),
            str(event.close),
            str(event.volume),
            _opt(event.turnover),
            event.closed,
        ]
    if isinstance(event, FeedStatus):
        return ["s", event.symbol, event.category, event.ts, event.stale]
    raise TypeError(f"not a market event: {event!r}")


def encode_events(events: Sequence[MarketEvent]) -> bytes:
    return _encode([VERSION, *map(event_row, events)])


def decode_events(payload: bytes | str) -> list[MarketEvent]:
    """Raises `CodecError` for anything but a well-formed message of this version."""
    try:
        message = _decode(payload)
    except msgspec.DecodeError as exc:
        raise CodecError(f"not JSON: {exc}") from None
    if message.__class__ is not list or not message or message[0] != VERSION:
        raise CodecError(f"not a version {VERSION} price message: {str(message)[:80]}")
    try:
        return [_event(row) for row in message[1:]]
    except (InvalidInput, InvalidOperation, KeyError, IndexError, TypeError, ValueError) as exc:
        raise CodecError(f"malformed price message: {exc}") from None


def _d(value: str) -> Decimal:
    if value.__class__ is not str:
        raise CodecError(f"a decimal must be a string, got {value!r}")
    return Decimal(value)


def _ms(value: int) -> int:
    if value.__class__ is not int:
        raise CodecError(f"a timestamp must be an integer, got {value!r}")
    return value


def _od(value: str | None) -> Decimal | None:
    return None if value is None else _d(value)


def _event(row: list[Any]) -> MarketEvent:
    kind = row[0]
    category = Category(row[2])
    if kind == "t":
        return Ticker(
            row[1], _d(row[4]), _d(row[5]), _d(row[6]), _d(row[7]), _ms(row[3]), category,
            _od(row[8]), row[9], _od(row[10]), _od(row[11]),
        )  # fmt: skip
    if kind == "x":
        return Trade(row[1], _d(row[4]), _d(row[5]), Side(row[6]), _ms(row[3]), str(row[7]), category)
    if kind == "c":
        return Candle(
            row[1], _ms(row[3]), _d(row[5]), _d(row[6]), _d(row[7]), _d(row[8]), _d(row[9]), row[4],
            _od(row[10]), bool(row[11]), category,
        )  # fmt: skip
    if kind == "s":
        return FeedStatus(row[1], bool(row[4]), _ms(row[3]), category)
    raise CodecError(f"unknown event kind {kind!r}")
