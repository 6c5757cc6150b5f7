"""Object storage: blobs (journal images) and daily candle files (Bar Replay history)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Protocol

from tradesim.domain.bars import DayBars
from tradesim.domain.history import CandleFile
from tradesim.domain.market import Candle


def candle_day_key(symbol: str, day: date) -> str:
    """The blueprint's layout of candle history: ``data/{SYMBOL}/{YYYY}/{MM}/{DD}.parquet``."""
    return f"data/{symbol}/{day:%Y}/{day:%m}/{day:%d}.parquet"


class BlobStore(Protocol):
    async def put(self, key: str, data: bytes, content_type: str) -> None: ...

    async def get(self, key: str) -> bytes:
        """Raises `NotFound` when there is no such key."""
        ...

    async def delete(self, key: str) -> None: ...

    async def exists(self, key: str) -> bool: ...

    async def url(self, key: str, *, expires_s: int = 300) -> str | None:
        """A presigned URL where the store has them (S3); None where the caller must serve the bytes."""
        ...


class CandleStore(Protocol):
    """One file of 1m candles per symbol and UTC day, at ``data/{SYMBOL}/{YYYY}/{MM}/{DD}.parquet``."""

    async def write_day(self, symbol: str, day: date, candles: Sequence[Candle]) -> CandleFile:
        """Write atomically (readers see the old file or the new one, never half).

        Raises:
            InvalidInput: a candle of another symbol or day, or two candles opening at one time.
        """
        ...

    async def read_day(self, symbol: str, day: date) -> list[Candle] | None:
        """The day's candles ascending, or None when the day is not stored."""
        ...

    async def has_day(self, symbol: str, day: date) -> bool: ...

    async def describe_day(self, symbol: str, day: date) -> CandleFile | None:
        """What is stored for the day (uri, rows, SHA-256 of the file), or None; never reads the candles."""
        ...

    async def read_bars(self, symbol: str, days: Sequence[date]) -> list[DayBars | None]:
        """The days as integer columns (Bar Replay's form), in the order asked; None for a day not stored.

        Adapters read the days concurrently; this is the fast path for loading many days.
        """
        ...
