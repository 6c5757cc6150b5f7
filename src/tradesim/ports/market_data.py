"""Where prices come from: live feeds and historical candles."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Protocol

from tradesim.domain.enums import Category
from tradesim.domain.market import Candle, MarketEvent


class MarketFeed(Protocol):
    """A live feed. `stream` yields normalised events until cancelled, reconnecting inside."""

    def stream(self, symbols: Sequence[str]) -> AsyncIterator[MarketEvent]: ...


class HistorySource(Protocol):
    async def fetch_candles(
        self, symbol: str, start_ms: int, end_ms: int, *, category: Category = Category.LINEAR
    ) -> list[Candle]:
        """Closed 1m candles with start <= open_time < end, ascending, exact decimals."""
        ...
