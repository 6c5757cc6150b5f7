"""`BlobStore` over any blocking object backend (a local folder, an S3 bucket)."""

from __future__ import annotations

import asyncio

from tradesim.adapters.parquet.candle_store import ObjectBackend
from tradesim.domain.errors import NotFound


class ObjectBlobStore:
    """Runs the backend's blocking calls in worker threads. `url` is None: serve the bytes yourself
    (a backend that can sign URLs overrides it)."""

    def __init__(self, objects: ObjectBackend) -> None:
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
        return None
