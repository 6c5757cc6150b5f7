"""`BlobStore` and `CandleStore` in a local folder."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from tradesim.adapters.localfs.objects import LocalObjects
from tradesim.adapters.object_blobs import ObjectBlobStore
from tradesim.adapters.parquet.candle_store import ParquetCandleStore


class LocalBlobStore(ObjectBlobStore):
    """A folder has no URL of its own, so the api serves the bytes itself."""

    def __init__(self, root: Path) -> None:
        super().__init__(LocalObjects(root))


def local_candle_store(root: Path, *, price_scales: Mapping[str, int] | None = None) -> ParquetCandleStore:
    # Two readers: a local disk gives nothing more to extra threads on small files.
    return ParquetCandleStore(LocalObjects(root), price_scales=price_scales, readers=2)
