"""In-memory blob and candle stores."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import date

from tradesim.domain.errors import NotFound
from tradesim.domain.history import CandleFile
from tradesim.domain.market import Candle


def candle_day_key(symbol: str, day: date) -> str:
    """The blueprint's layout: ``data/{SYMBOL}/{YYYY}/{MM}/{DD}.parquet``."""
    return f"data/{symbol}/{day:%Y}/{day:%m}/{day:%d}.parquet"


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

    async def write_day(self, symbol: str, day: date, candles: Sequence[Candle]) -> CandleFile:
        ordered = tuple(sorted(candles, key=lambda c: c.open_time))
        self.days[(symbol, day)] = ordered
        digest = hashlib.sha256(repr(ordered).encode()).hexdigest()
        return CandleFile(symbol, day, f"memory://{candle_day_key(symbol, day)}", len(ordered), digest)

    async def read_day(self, symbol: str, day: date) -> list[Candle] | None:
        found = self.days.get((symbol, day))
        return list(found) if found is not None else None

    async def has_day(self, symbol: str, day: date) -> bool:
        return (symbol, day) in self.days
