"""In-memory blob and candle stores."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import date

from tradesim.domain.bars import DayBars, check_day_candles
from tradesim.domain.errors import NotFound
from tradesim.domain.history import CandleFile
from tradesim.domain.market import Candle
from tradesim.ports.storage import candle_day_key

__all__ = ["MemoryBlobStore", "MemoryCandleStore", "candle_day_key"]


class MemoryBlobStore:
    def __init__(self) -> None:
        self.objects: dict[str, tuple[bytes, str]] = {}

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        self.objects[key] = (bytes(data), content_type)

    async def get(self, key: str) -> bytes:
        try:
            return self.objects[key][0]
        except KeyError:
            raise NotFound(f"no object {key!r}") from None

    async def delete(self, key: str) -> None:
        self.objects.pop(key, None)

    async def exists(self, key: str) -> bool:
        return key in self.objects

    async def url(self, key: str, *, expires_s: int = 300) -> str | None:
        return None


class MemoryCandleStore:
    def __init__(self) -> None:
        self.days: dict[tuple[str, date], tuple[Candle, ...]] = {}
        self.reads = 0

    async def write_day(self, symbol: str, day: date, candles: Sequence[Candle]) -> CandleFile:
        check_day_candles(symbol, day, candles)
        ordered = tuple(sorted(candles, key=lambda c: c.open_time))
        self.days[(symbol, day)] = ordered
        described = await self.describe_day(symbol, day)
        assert described is not None
        return described

    async def describe_day(self, symbol: str, day: date) -> CandleFile | None:
        found = self.days.get((symbol, day))
        if found is None:
            return None
        digest = hashlib.sha256(repr(found).encode()).hexdigest()
        category = found[0].category.value if found else "linear"
        return CandleFile(symbol, day, f"memory://{candle_day_key(symbol, day)}", len(found), digest, category)

    async def read_bars(self, symbol: str, days: Sequence[date]) -> list[DayBars | None]:
        self.reads += len(days)
        found = [self.days.get((symbol, day)) for day in days]
        return [None if f is None else DayBars.from_candles(symbol, d, f) for d, f in zip(days, found, strict=True)]

    async def read_day(self, symbol: str, day: date) -> list[Candle] | None:
        found = self.days.get((symbol, day))
        return list(found) if found is not None else None

    async def has_day(self, symbol: str, day: date) -> bool:
        return (symbol, day) in self.days
