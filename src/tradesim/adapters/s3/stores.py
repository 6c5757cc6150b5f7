"""`BlobStore` and `CandleStore` on S3."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from tradesim.adapters.parquet.candle_store import ParquetCandleStore
from tradesim.adapters.s3.objects import S3Objects
from tradesim.domain.errors import NotFound


class S3BlobStore:
    def __init__(self, objects: S3Objects) -> None:
        self.objects = objects

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
        """A presigned GET URL (signing is local: no request is made, and it works for missing keys too)."""
        return await asyncio.to_thread(self.objects.presign, key, expires_s)


def s3_candle_store(objects: S3Objects, *, price_scales: Mapping[str, int] | None = None) -> ParquetCandleStore:
    # Reads wait on the network, not the CPU: many threads keep many GETs in flight.
    return ParquetCandleStore(objects, price_scales=price_scales, readers=16)
