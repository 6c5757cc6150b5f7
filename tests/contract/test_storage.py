"""Contracts of the blob store and the candle store."""

from __future__ import annotations

from datetime import date

import pytest

from tests.contract import records
from tradesim.domain.errors import NotFound
from tradesim.ports.storage import BlobStore, CandleStore

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


async def test_blob_round_trip_and_delete(blob_store: BlobStore) -> None:
    await blob_store.put("journal/u1/e1/a.png", PNG, "image/png")
    assert await blob_store.exists("journal/u1/e1/a.png")
    assert await blob_store.get("journal/u1/e1/a.png") == PNG
    await blob_store.put("journal/u1/e1/a.png", PNG + b"!", "image/png")
    assert await blob_store.get("journal/u1/e1/a.png") == PNG + b"!"
    await blob_store.delete("journal/u1/e1/a.png")
    assert not await blob_store.exists("journal/u1/e1/a.png")
    with pytest.raises(NotFound):
        await blob_store.get("journal/u1/e1/a.png")


async def test_candle_day_round_trip_keeps_exact_values(candle_store: CandleStore) -> None:
    day = date(2023, 11, 14)
    candles = [records.candle(m, close=c) for m, c in ((1, "30001.5"), (0, "29999.9"), (2, "30000.10"))]
    written = await candle_store.write_day("BTCUSDT", day, candles)
    assert written.rows == 3
    assert written.uri.endswith("data/BTCUSDT/2023/11/14.parquet")
    assert len(written.checksum) == 64
    read = await candle_store.read_day("BTCUSDT", day)
    assert read is not None
    assert [c.close for c in read] == [records.candle(0, close="29999.9").close, candles[0].close, candles[2].close]
    assert str(read[2].close) == "30000.10"
    assert await candle_store.has_day("BTCUSDT", day)
    assert not await candle_store.has_day("BTCUSDT", date(2023, 11, 15))
    assert await candle_store.read_day("ETHUSDT", day) is None
