"""Runs a feed in the background and lets a test wait for the events it expects."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from tradesim.domain.market import MarketEvent
from tradesim.ports.market_data import MarketFeed

E = TypeVar("E")


class Recorder:
    """`events` holds everything the feed yielded so far, in order."""

    def __init__(self, feed: MarketFeed, symbols: Sequence[str]) -> None:
        self.events: list[MarketEvent] = []
        self._queue: asyncio.Queue[MarketEvent] = asyncio.Queue()
        self._task = asyncio.create_task(self._run(feed, symbols))

    async def _run(self, feed: MarketFeed, symbols: Sequence[str]) -> None:
        async for event in feed.stream(symbols):
            self.events.append(event)
            self._queue.put_nowait(event)

    async def next(self, kind: type[E], where: Callable[[E], Any] = lambda _: True, within: float = 5.0) -> E:
        """The next event of `kind` matching `where` (earlier non-matching ones are passed over)."""
        async with asyncio.timeout(within):
            while True:
                if self._task.done():
                    self._task.result()  # surface a crash
                event = await self._queue.get()
                if isinstance(event, kind) and where(event):
                    return event

    def of(self, kind: type[E]) -> list[E]:
        return [e for e in self.events if isinstance(e, kind)]

    async def aclose(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
