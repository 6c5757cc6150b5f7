"""One symbol's stored 1m bars in time order, across days and over the days that are missing.

Which days exist comes from the `candle_files` index (the store is asked only for those), and
is read again when the replay runs past the last known day, so history synced overnight
becomes playable without a restart.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from datetime import date

import attrs

from tradesim.application.replay.cache import BarCache
from tradesim.domain.bars import DayBars, day_of
from tradesim.domain.market import Candle
from tradesim.ports.unit_of_work import UnitOfWorkFactory


@attrs.frozen(slots=True)
class Position:
    """Bar `index` of `bars`: where a replay stands."""

    bars: DayBars
    index: int

    @property
    def candle(self) -> Candle:
        return self.bars.candle(self.index)

    @property
    def open_time(self) -> int:
        return self.bars.open_time[self.index]


class Timeline:
    def __init__(self, symbol: str, cache: BarCache, uow_factory: UnitOfWorkFactory) -> None:
        self.symbol = symbol
        self._cache = cache
        self._uow = uow_factory
        self._days: list[date] | None = None

    async def stored_days(self, *, refresh: bool = False) -> list[date]:
        if self._days is None or refresh:
            async with self._uow() as uow:
                files = await uow.candle_files.list(self.symbol)
            self._days = sorted({f.day for f in files})
        return self._days

    async def at_or_after(self, ms: int) -> Position | None:
        """The first stored bar opening at or after `ms`, or None past the end of history."""
        for refresh in (False, True):
            days = await self.stored_days(refresh=refresh)
            target = day_of(ms)
            for day in days[bisect_left(days, target) :]:
                bars = await self._cache.day(self.symbol, day)
                if bars is None:
                    continue  # indexed but gone from the store: skip it as a gap
                index = bars.index_from(ms) if day == target else 0
                if index < len(bars):
                    return Position(bars, index)
        return None

    async def next(self, position: Position) -> Position | None:
        if position.index + 1 < len(position.bars):
            return Position(position.bars, position.index + 1)
        return await self.at_or_after(position.open_time + 1)

    async def before(self, ms: int) -> Candle | None:
        """The last stored bar opening before `ms` (on its day or the stored day before it)."""
        return await bar_before(self._cache, self.symbol, await self.stored_days(), ms)

    def prefetch_after(self, day: date) -> None:
        """Warm the cache with the stored day after `day`, while this one plays."""
        if self._days:
            later = self._days[bisect_right(self._days, day) :]
            if later:
                self._cache.prefetch(self.symbol, later[:1])


async def bar_before(cache: BarCache, symbol: str, days: Sequence[date], ms: int) -> Candle | None:
    """The last bar of `symbol` opening before `ms`, looked for on its day and the stored day before
    it (`days`: the stored days, ascending)."""
    end = bisect_right(days, day_of(ms))
    for day in reversed(days[max(0, end - 2) : end]):
        bars = await cache.day(symbol, day)
        if bars is None:
            continue
        index = bars.index_from(ms)
        if index > 0:
            return bars.candle(index - 1)
    return None
