"""Days of bars in memory, shared by every replay session of a process.

Bounded by bytes (a day of 1m bars is ~70 KB as integer columns), least recently used first
out. Two sessions asking for the same day while it loads share one read.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Sequence
from datetime import date

from tradesim.domain.bars import DayBars
from tradesim.ports.storage import CandleStore

DEFAULT_MAX_BYTES = 512 * 2**20  # about 20 symbol-years of 1m bars
log = logging.getLogger(__name__)

Key = tuple[str, date]


class BarCache:
    def __init__(self, store: CandleStore, *, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self._store = store
        self.max_bytes = max_bytes
        self._days: OrderedDict[Key, DayBars] = OrderedDict()
        self._loading: dict[Key, asyncio.Future[DayBars | None]] = {}
        self._prefetching: set[asyncio.Task[object]] = set()
        self.bytes = 0
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._days)

    async def day(self, symbol: str, day: date) -> DayBars | None:
        return (await self.days(symbol, [day]))[0]

    async def days(self, symbol: str, days: Sequence[date]) -> list[DayBars | None]:
        """The days in the order asked (None where not stored); misses are read in one batch."""
        found: dict[date, DayBars | None] = {}
        waiting: dict[date, asyncio.Future[DayBars | None]] = {}
        missing: list[date] = []
        for day in dict.fromkeys(days):
            key = (symbol, day)
            if key in self._days:
                self._days.move_to_end(key)
                found[day] = self._days[key]
                self.hits += 1
            elif key in self._loading:
                waiting[day] = self._loading[key]
            else:
                missing.append(day)
        if missing:
            found.update(await self._load(symbol, missing))
        for day, future in waiting.items():
            found[day] = await asyncio.shield(future)
        return [found[d] for d in days]

    def prefetch(self, symbol: str, days: Sequence[date]) -> None:
        """Start loading `days` in the background (the next day of a playing session)."""
        wanted = [d for d in days if (symbol, d) not in self._days and (symbol, d) not in self._loading]
        if not wanted:
            return
        task = asyncio.ensure_future(self.days(symbol, wanted))
        self._prefetching.add(task)
        task.add_done_callback(self._prefetched)

    def _prefetched(self, task: asyncio.Task[object]) -> None:
        self._prefetching.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("prefetching bars failed: %s", task.exception())

    async def _load(self, symbol: str, days: list[date]) -> dict[date, DayBars | None]:
        loop = asyncio.get_running_loop()
        futures = {d: loop.create_future() for d in days}
        for day, future in futures.items():
            self._loading[(symbol, day)] = future
        self.misses += len(days)
        try:
            loaded = await self._store.read_bars(symbol, days)
        except BaseException as error:
            for future in futures.values():
                future.set_exception(error)
                future.exception()  # marks it retrieved: the caller below gets the error itself
            raise
        finally:
            for day in days:
                self._loading.pop((symbol, day), None)
        for day, bars in zip(days, loaded, strict=True):
            futures[day].set_result(bars)
            if bars is not None:
                self._keep((symbol, day), bars)
        return dict(zip(days, loaded, strict=True))

    def _keep(self, key: Key, bars: DayBars) -> None:
        self._days[key] = bars
        self.bytes += bars.nbytes
        while self.bytes > self.max_bytes and len(self._days) > 1:
            _, evicted = self._days.popitem(last=False)
            self.bytes -= evicted.nbytes
