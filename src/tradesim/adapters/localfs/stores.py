"""`BlobStore` and `CandleStore` in a local folder."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path

from tradesim.adapters.localfs.objects import LocalObjects
from tradesim.adapters.parquet.candle_store import ParquetCandleStore
from tradesim.domain.errors import NotFound


class LocalBlobStore:
    def __init__(self, root: Path) -> None:
        self.objects = LocalObjects(root)

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        await asyncio.to_thread(self.objects.put, key, bytes(data), content_type, {})

    async def get(self, key: str) -> bytes:
        data = await asyncio.to_thread(self.objects.get, key)
        if data is None:
            raise NotFound(f"no object {key!r}")
        return data

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self.objects.delete, key)

    async def exists(self, key: str) -> bool:
        return await asyncio.to_thread(self.objects.head, key) is not None

    async def url(self, key: str, *, expires_s: int = 300) -> str | None:
        """None: a folder has no URL of its own, so the api serves the bytes itself."""
        return None


def local_candle_store(root: Path, *, price_scales: Mapping[str, int] | None = None) -> ParquetCandleStore:
    # Two readers: a local disk gives nothing more to extra threads on small files.
    return ParquetCandleStore(LocalObjects(root), price_scales=price_scales, readers=2)
