"""`BlobStore` and `CandleStore` on S3."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from tradesim.adapters.object_blobs import ObjectBlobStore
from tradesim.adapters.parquet.candle_store import ParquetCandleStore
from tradesim.adapters.s3.objects import S3Objects


class S3BlobStore(ObjectBlobStore):
    def __init__(self, objects: S3Objects) -> None:
        super().__init__(objects)
        self._s3 = objects

    async def url(self, key: str, *, expires_s: int = 300) -> str | None:
        """A presigned GET URL (signing is local: no request is made, and it works for missing keys too)."""
        return await asyncio.to_thread(self._s3.presign, key, expires_s)


def s3_candle_store(objects: S3Objects, *, price_scales: Mapping[str, int] | None = None) -> ParquetCandleStore:
    # Reads wait on the network, not the CPU: many threads keep many GETs in flight.
    return ParquetCandleStore(objects, price_scales=price_scales, readers=16)
