"""Engine settings and the pluggable pieces of fill pricing."""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Protocol

import attrs

from tradesim.domain.enums import MarginMode, Side
from tradesim.domain.instruments import Instrument


class SlippageModel(Protocol):
    """Moves a taker's fill price away from the touch; must return a price on the tick grid."""

    def adjust(self, side: Side, price: Decimal, qty: Decimal, instrument: Instrument) -> Decimal: ...


@attrs.frozen
class NoSlippage:
    def adjust(self, side: Side, price: Decimal, qty: Decimal, instrument: Instrument) -> Decimal:
        return price


@attrs.frozen
class FixedTickSlippage:
    """Every taker fill pays `ticks` ticks beyond the touch (never below one tick)."""

    ticks: int

    def adjust(self, side: Side, price: Decimal, qty: Decimal, instrument: Instrument) -> Decimal:
        moved = price + side.sign * self.ticks * instrument.tick_size
        return max(moved, instrument.tick_size)


@attrs.frozen
class EngineConfig:
    """How the simulated venue behaves.

    max_price_age_ms: a price older than this (by the engine's clock) never fills a taker order.
    cap_taker_fills_to_book_size: a taker fill takes at most the displayed bid1/ask1 size; the
        remainder of a market or IOC order is cancelled and of a GTC limit order rests.
    """

    max_price_age_ms: int = 30_000
    slippage: SlippageModel = NoSlippage()
    cap_taker_fills_to_book_size: bool = False
    default_leverage: Decimal = Decimal(10)
    default_margin_mode: MarginMode = MarginMode.CROSS
    settle_coin: str = "USDT"


class SequentialIds:
    """Deterministic ids (``prefix-1``, ``prefix-2``...) for library use and reproducible runs."""

    def __init__(self, prefix: str = "o", start: int = 1) -> None:
        self._prefix = prefix
        self._counter = itertools.count(start)

    def __call__(self) -> str:
        return f"{self._prefix}-{next(self._counter)}"
