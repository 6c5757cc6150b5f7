"""Market data as the engine sees it: tickers, trades and candles, with exact decimals."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import attrs

from tradesim.domain.enums import Category, Side
from tradesim.domain.errors import InvalidInput
from tradesim.domain.numbers import to_decimal


def _require_decimal(name: str, value: object) -> None:
    if not isinstance(value, Decimal):
        raise InvalidInput(f"{name} must be a Decimal, not {type(value).__name__} ({value!r})")
    if not value.is_finite() or value <= 0:
        raise InvalidInput(f"{name} must be a positive finite price, got {value}")


def _opt_decimal(value: object, field: str) -> Decimal | None:
    return None if value is None or value == "" else to_decimal(value, field)


@attrs.frozen(slots=True)
class Ticker:
    """The latest top of book and reference prices for one instrument, as of `ts` (epoch ms).

    Spot tickers have no mark price or book in Bybit's ticker; callers pass the last price
    for both, so the engine's rules stay the same across categories.
    """

    symbol: str
    last_price: Decimal
    bid_price: Decimal
    ask_price: Decimal
    mark_price: Decimal
    ts: int
    category: Category = Category.LINEAR
    funding_rate: Decimal | None = None
    next_funding_time: int | None = None
    bid_size: Decimal | None = None
    ask_size: Decimal | None = None

    def __attrs_post_init__(self) -> None:
        last = self.last_price
        if self.bid_price is last and self.ask_price is last and self.mark_price is last:
            _require_decimal("last_price", last)  # a replayed bar's ticker: one price, checked once
            return
        for name in ("last_price", "bid_price", "ask_price", "mark_price"):
            _require_decimal(name, getattr(self, name))
        if self.bid_price > self.ask_price:
            raise InvalidInput(f"{self.symbol}: bid {self.bid_price} is above ask {self.ask_price}")

    @classmethod
    def of(
        cls,
        symbol: str,
        *,
        last: object,
        ts: int,
        bid: object = None,
        ask: object = None,
        mark: object = None,
        category: Category = Category.LINEAR,
        funding_rate: object = None,
        next_funding_time: int | None = None,
        bid_size: object = None,
        ask_size: object = None,
    ) -> Ticker:
        """Build from strings or Decimals; a missing bid/ask/mark falls back to the last price."""
        last_price = to_decimal(last, "lastPrice")
        return cls(
            symbol=symbol,
            last_price=last_price,
            bid_price=_opt_decimal(bid, "bid1Price") or last_price,
            ask_price=_opt_decimal(ask, "ask1Price") or last_price,
            mark_price=_opt_decimal(mark, "markPrice") or last_price,
            ts=ts,
            category=category,
            funding_rate=_opt_decimal(funding_rate, "fundingRate"),
            next_funding_time=next_funding_time,
            bid_size=_opt_decimal(bid_size, "bid1Size"),
            ask_size=_opt_decimal(ask_size, "ask1Size"),
        )


@attrs.frozen(slots=True)
class Trade:
    """One public trade; `side` is the taker's side."""

    symbol: str
    price: Decimal
    qty: Decimal
    side: Side
    ts: int
    trade_id: str = ""
    category: Category = Category.LINEAR

    def __attrs_post_init__(self) -> None:
        _require_decimal("price", self.price)
        if not isinstance(self.qty, Decimal) or self.qty < 0:
            raise InvalidInput(f"trade qty must be a non-negative Decimal, got {self.qty!r}")


INTERVAL_MS: dict[str, int] = {"1m": 60_000, "3m": 180_000, "5m": 300_000, "15m": 900_000, "1h": 3_600_000}


@attrs.frozen(slots=True)
class Candle:
    """An OHLCV bar opened at `open_time` (epoch ms, UTC); `closed` once the bar is final."""

    symbol: str
    open_time: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    interval: str = "1m"
    turnover: Decimal | None = None
    closed: bool = True
    category: Category = Category.LINEAR

    def __attrs_post_init__(self) -> None:
        for name in ("open", "high", "low", "close"):
            _require_decimal(name, getattr(self, name))
        if self.interval not in INTERVAL_MS:
            raise InvalidInput(f"unsupported candle interval {self.interval!r}; known: {', '.join(INTERVAL_MS)}")
        if self.low > min(self.open, self.close) or self.high < max(self.open, self.close) or self.low > self.high:
            raise InvalidInput(
                f"{self.symbol} candle at {self.open_time} is inconsistent: "
                f"open {self.open} high {self.high} low {self.low} close {self.close}"
            )
        if not isinstance(self.volume, Decimal) or self.volume < 0:
            raise InvalidInput(f"candle volume must be a non-negative Decimal, got {self.volume!r}")

    @property
    def close_time(self) -> int:
        """The last millisecond inside the bar (Bybit's `end`)."""
        return self.open_time + INTERVAL_MS[self.interval] - 1


def roll_up(candles: Sequence[Candle], interval: str) -> list[Candle]:
    """1m bars (oldest first) as bars of `interval`, each opened at a multiple of it: first open, highest
    high, lowest low, last close, summed volume and turnover; closed only once its last minute is in.
    Raises InvalidInput for an unknown interval."""
    if interval not in INTERVAL_MS:
        raise InvalidInput(f"unsupported candle interval {interval!r}; known: {', '.join(INTERVAL_MS)}")
    step = INTERVAL_MS[interval]
    groups: dict[int, list[Candle]] = {}
    for candle in candles:
        groups.setdefault(candle.open_time - candle.open_time % step, []).append(candle)
    rolled = []
    for open_time, group in groups.items():
        first, last = group[0], group[-1]
        turnovers = [c.turnover for c in group if c.turnover is not None]
        rolled.append(
            Candle(
                symbol=first.symbol,
                open_time=open_time,
                open=first.open,
                high=max(c.high for c in group),
                low=min(c.low for c in group),
                close=last.close,
                volume=sum((c.volume for c in group), Decimal(0)),
                interval=interval,
                turnover=sum(turnovers, Decimal(0)) if turnovers else None,
                closed=last.closed and last.close_time == open_time + step - 1,
                category=first.category,
            )
        )
    return rolled


@attrs.frozen(slots=True)
class FeedStatus:
    """The feed for a symbol went stale (no fresh data within its limit) or recovered."""

    symbol: str
    stale: bool
    ts: int
    category: Category = Category.LINEAR


MarketEvent = Ticker | Trade | Candle | FeedStatus
