"""The `CandleStore` port over any object backend (a local folder, S3), one Parquet file per day."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Final, Protocol

from tradesim.adapters.parquet.codec import decode_bars, decode_candles, encode_bars, encode_candles, row_count
from tradesim.domain.bars import DayBars, check_day_candles
from tradesim.domain.history import CandleFile
from tradesim.domain.market import Candle
from tradesim.ports.storage import candle_day_key

CONTENT_TYPE: Final = "application/vnd.apache.parquet"


class ObjectBackend(Protocol):
    """Blocking object I/O the stores run in worker threads. Keys are relative ('data/...')."""

    def uri(self, key: str) -> str: ...

    def put(self, key: str, data: bytes, content_type: str, metadata: Mapping[str, str]) -> None:
        """Replace the object atomically: readers see the old bytes or the new, never a mix."""
        ...

    def get(self, key: str) -> bytes | None: ...

    def head(self, key: str) -> dict[str, str] | None:
        """The object's metadata as written by `put` (may be empty), or None when it does not exist."""
        ...

    def delete(self, key: str) -> None: ...


class ParquetCandleStore:
    """Days are written whole (one `put`) and described by the SHA-256 of their bytes.

    `price_scales` maps a symbol to its tick size's decimal places, so every file of a symbol
    uses at least that scale. `readers` bounds the threads `read_bars` reads with.
    """

    def __init__(
        self, objects: ObjectBackend, *, price_scales: Mapping[str, int] | None = None, readers: int = 8
    ) -> None:
        self._objects = objects
        self._price_scales = dict(price_scales or {})
        self._readers = max(1, readers)

    async def write_day(self, symbol: str, day: date, candles: Sequence[Candle]) -> CandleFile:
        check_day_candles(symbol, day, candles)
        data = encode_candles(symbol, day, candles, min_price_scale=self._price_scales.get(symbol, 0))
        checksum = hashlib.sha256(data).hexdigest()
        key = candle_day_key(symbol, day)
        metadata = {"sha256": checksum, "rows": str(len(candles))}
        await asyncio.to_thread(self._objects.put, key, data, CONTENT_TYPE, metadata)
        category = candles[0].category.value if candles else "linear"
        return CandleFile(symbol, day, self._objects.uri(key), len(candles), checksum, category)

    async def write_bars(self, bars: DayBars) -> CandleFile:
        """Write a day already in columns (bulk loads, benchmarks): same file, no `Candle` built."""
        data = encode_bars(bars)
        checksum = hashlib.sha256(data).hexdigest()
        key = candle_day_key(bars.symbol, bars.day)
        metadata = {"sha256": checksum, "rows": str(len(bars))}
        await asyncio.to_thread(self._objects.put, key, data, CONTENT_TYPE, metadata)
        return CandleFile(bars.symbol, bars.day, self._objects.uri(key), len(bars), checksum, bars.category.value)

    async def read_day(self, symbol: str, day: date) -> list[Candle] | None:
        data = await asyncio.to_thread(self._objects.get, candle_day_key(symbol, day))
        return None if data is None else decode_candles(data, symbol)

    async def has_day(self, symbol: str, day: date) -> bool:
        return await asyncio.to_thread(self._objects.head, candle_day_key(symbol, day)) is not None

    async def describe_day(self, symbol: str, day: date) -> CandleFile | None:
        return await asyncio.to_thread(self._describe, symbol, day)

    def _describe(self, symbol: str, day: date) -> CandleFile | None:
        key = candle_day_key(symbol, day)
        meta = self._objects.head(key)
        if meta is None:
            return None
        if "sha256" in meta and meta.get("rows", "").isdigit():
            checksum, rows = meta["sha256"], int(meta["rows"])
        else:
            # A file written by something else (or a folder, which keeps no metadata): hash it.
            data = self._objects.get(key)
            if data is None:
                return None
            checksum, rows = hashlib.sha256(data).hexdigest(), row_count(data)
        return CandleFile(symbol, day, self._objects.uri(key), rows, checksum)

    async def read_bars(self, symbol: str, days: Sequence[date]) -> list[DayBars | None]:
        """Reads in up to `readers` threads, each taking a contiguous share of the days.

        One thread call per share rather than per day: the per-call cost of a thread hop is
        about as large as decoding a small day, and Arrow drops the GIL while it decodes.
        """
        if not days:
            return []
        shares = min(self._readers, len(days))
        size = -(-len(days) // shares)
        chunks = [list(days[i : i + size]) for i in range(0, len(days), size)]
        results = await asyncio.gather(*(asyncio.to_thread(self._read_many, symbol, chunk) for chunk in chunks))
        return [bars for chunk in results for bars in chunk]

    def _read_many(self, symbol: str, days: Sequence[date]) -> list[DayBars | None]:
        found: list[DayBars | None] = []
        for day in days:
            data = self._objects.get(candle_day_key(symbol, day))
            found.append(None if data is None else decode_bars(data, symbol, day))
        return found
