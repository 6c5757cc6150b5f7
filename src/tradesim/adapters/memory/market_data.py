"""Scripted market data: a feed that plays a list, a history source that answers from one."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Sequence

from tradesim.domain.enums import Category
from tradesim.domain.market import Candle, MarketEvent


class ScriptedMarketFeed:
    """Yields the given events for the requested symbols, then stays open (as a live feed would)."""

    def __init__(self, events: Iterable[MarketEvent], *, stay_open: bool = True) -> None:
        self._events = list(events)
        self._stay_open = stay_open

    async def stream(self, symbols: Sequence[str]) -> AsyncIterator[MarketEvent]:
        wanted = set(symbols)
        for event in self._events:
            if event.symbol in wanted:
                yield event
                await asyncio.sleep(0)
        if self._stay_open:
            await asyncio.Event().wait()


class ListHistorySource:
    def __init__(self, candles: Iterable[Candle]) -> None:
        self._candles = sorted(candles, key=lambda c: (c.symbol, c.open_time))
        self.calls: list[tuple[str, int, int]] = []

    async def fetch_candles(
        self, symbol: str, start_ms: int, end_ms: int, *, category: Category = Category.LINEAR
    ) -> list[Candle]:
        self.calls.append((symbol, start_ms, end_ms))
        return [
            c
            for c in self._candles
            if c.symbol == symbol and c.category is category and start_ms <= c.open_time < end_ms
        ]
