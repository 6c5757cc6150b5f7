"""Contracts of the blob store and the candle store."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import attrs
import pytest

from tests.contract import records
from tradesim.domain.errors import InvalidInput, NotFound
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


async def test_blob_url_is_presigned_or_none(blob_store: BlobStore) -> None:
    await blob_store.put("journal/u1/e1/b.png", PNG, "image/png")
    url = await blob_store.url("journal/u1/e1/b.png", expires_s=60)
    assert url is None or (url.startswith("http") and "journal/u1/e1/b.png" in url)


async def test_missing_blob_is_not_found_and_deleting_it_is_harmless(blob_store: BlobStore) -> None:
    assert not await blob_store.exists("journal/none.png")
    await blob_store.delete("journal/none.png")
    with pytest.raises(NotFound):
        await blob_store.get("journal/none.png")


async def test_describe_day_matches_what_write_day_reported(candle_store: CandleStore) -> None:
    day = date(2023, 11, 14)
    assert await candle_store.describe_day("BTCUSDT", day) is None
    written = await candle_store.write_day("BTCUSDT", day, [records.candle(m) for m in range(5)])
    described = await candle_store.describe_day("BTCUSDT", day)
    assert described is not None
    assert (described.uri, described.rows, described.checksum) == (written.uri, 5, written.checksum)


async def test_rewriting_a_day_replaces_it_whole(candle_store: CandleStore) -> None:
    day = date(2023, 11, 14)
    first = await candle_store.write_day("BTCUSDT", day, [records.candle(m) for m in range(4)])
    second = await candle_store.write_day("BTCUSDT", day, [records.candle(m, close="30005.0") for m in (0, 1)])
    assert second.checksum != first.checksum
    read = await candle_store.read_day("BTCUSDT", day)
    assert read is not None
    assert [(c.open_time, c.close) for c in read] == [(c.open_time, Decimal("30005.0")) for c in read]
    assert len(read) == 2
    described = await candle_store.describe_day("BTCUSDT", day)
    assert described is not None
    assert described.checksum == second.checksum


async def test_the_same_candles_give_the_same_checksum(candle_store: CandleStore) -> None:
    candles = [records.candle(m) for m in range(3)]
    a = await candle_store.write_day("BTCUSDT", date(2023, 11, 14), candles)
    b = await candle_store.write_day("BTCUSDT", date(2023, 11, 14), list(reversed(candles)))
    assert a.checksum == b.checksum


async def test_read_bars_gives_exact_columns_in_the_order_asked(candle_store: CandleStore) -> None:
    day, other = date(2023, 11, 14), date(2023, 11, 16)
    candles = [records.candle(m, close=c) for m, c in ((0, "29999.9"), (1, "30001.5"), (2, "30000.10"))]
    await candle_store.write_day("BTCUSDT", day, candles)
    two_days_later = attrs.evolve(records.candle(0), open_time=records.candle(0).open_time + 2 * 86_400_000)
    await candle_store.write_day("BTCUSDT", other, [two_days_later])
    found = await candle_store.read_bars("BTCUSDT", [other, date(2023, 11, 15), day])
    assert [None if b is None else (b.day, len(b)) for b in found] == [(other, 1), None, (day, 3)]
    bars = found[2]
    assert bars is not None
    assert bars.symbol == "BTCUSDT"
    assert list(bars.open_time) == [c.open_time for c in candles]
    assert [bars.candle(i) for i in range(3)] == [attrs.evolve(c, turnover=None) for c in candles]
    assert bars.index_from(candles[1].open_time) == 1
    assert await candle_store.read_bars("BTCUSDT", []) == []


async def test_write_day_refuses_candles_of_another_day_or_twice_the_same_minute(candle_store: CandleStore) -> None:
    with pytest.raises(InvalidInput):
        await candle_store.write_day("BTCUSDT", date(2023, 11, 15), [records.candle(0)])
    with pytest.raises(InvalidInput):
        await candle_store.write_day("BTCUSDT", date(2023, 11, 14), [records.candle(0), records.candle(0)])
    with pytest.raises(InvalidInput):
        await candle_store.write_day("ETHUSDT", date(2023, 11, 14), [records.candle(0)])
    assert not await candle_store.has_day("BTCUSDT", date(2023, 11, 14))
