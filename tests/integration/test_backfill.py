"""Backfill end to end: a fake Bybit over HTTP, the real Parquet stores (local folder and S3 on moto).

Run twice, the second run asks the exchange nothing and leaves files, checksums and index rows
exactly as they were; a day the exchange has nothing for is reported as a gap.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import shared_data
from tests.support.candles import bybit_csv_day, walk
from tests.support.fake_exchange import FakeBybit, serving
from tests.support.moto_s3 import MotoS3
from tradesim.adapters.bybit.rest import BybitHistorySource
from tradesim.adapters.localfs.stores import local_candle_store
from tradesim.adapters.memory.clock import FixedClock
from tradesim.adapters.memory.tables import MemoryDatabase
from tradesim.adapters.memory.unit_of_work import MemoryUnitOfWork
from tradesim.adapters.parquet.candle_store import ParquetCandleStore
from tradesim.adapters.s3.stores import s3_candle_store
from tradesim.application.history import EXIT_GAPS, DayStatus, HistorySync
from tradesim.domain.bars import day_start_ms

D1, D2, D3, D4 = (date(2024, 2, d) for d in (1, 2, 3, 4))
NOW = day_start_ms(date(2024, 2, 10))


@pytest.fixture
def bybit() -> Iterator[FakeBybit]:
    candles = walk("BTCUSDT", day_start_ms(D1), 2 * 1440, seed=11) + walk("BTCUSDT", day_start_ms(D4), 1440, seed=12)
    with serving(FakeBybit(candles, server_time=NOW)) as fake:
        assert isinstance(fake, FakeBybit)
        yield fake


@pytest.fixture(params=["localfs", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ParquetCandleStore:
    if request.param == "localfs":
        return local_candle_store(tmp_path / "objects", price_scales={"BTCUSDT": 2})
    moto: MotoS3 = request.getfixturevalue("moto_s3")
    return s3_candle_store(moto.fresh_bucket(), price_scales={"BTCUSDT": 2})


async def test_backfill_twice_changes_nothing_and_reports_the_missing_day(
    bybit: FakeBybit, store: ParquetCandleStore
) -> None:
    database = MemoryDatabase()
    source = BybitHistorySource(bybit.url, min_interval_s=0)
    sync = HistorySync(source, store, lambda: MemoryUnitOfWork(database), FixedClock(NOW))
    try:
        first = await sync.backfill("BTCUSDT", D1, D4)
        index = dict(database.tables.candle_files)
        files = {d: await store.describe_day("BTCUSDT", d) for d in (D1, D2, D3, D4)}
        contents = {d: await store.read_day("BTCUSDT", d) for d in (D1, D2, D4)}
        requests = len(bybit.requests)
        second = await sync.backfill("BTCUSDT", D1, D4)
    finally:
        await source.aclose()

    assert [o.status for o in first.outcomes] == [
        DayStatus.STORED,
        DayStatus.STORED,
        DayStatus.MISSING,
        DayStatus.STORED,
    ]
    assert [o.status for o in second.outcomes] == [
        DayStatus.SKIPPED,
        DayStatus.SKIPPED,
        DayStatus.MISSING,
        DayStatus.SKIPPED,
    ]
    assert first.exit_code == second.exit_code == EXIT_GAPS
    assert "GAP     BTCUSDT 2024-02-03: the exchange returned no candles for the whole day" in second.summary()
    # The second run asked only about the day that has nothing: an empty day is always asked again.
    assert len(bybit.requests) - requests == 1
    assert {int(r.params["end"]) for r in bybit.requests[requests:]} == {day_start_ms(D4) - 1}
    assert dict(database.tables.candle_files) == index
    assert {d: await store.describe_day("BTCUSDT", d) for d in (D1, D2, D3, D4)} == files
    assert files[D3] is None
    for day, candles in contents.items():
        described = files[day]
        assert described is not None
        assert index[("linear", "BTCUSDT", day)] == described
        assert described.rows == 1440
        assert candles == [
            c for c in bybit.candles if day_start_ms(day) <= c.open_time < day_start_ms(day) + 86_400_000
        ]


async def test_the_checksum_is_the_sha256_of_the_file(tmp_path: Path, bybit: FakeBybit) -> None:
    store = local_candle_store(tmp_path, price_scales={"BTCUSDT": 2})
    source = BybitHistorySource(bybit.url, min_interval_s=0)
    sync = HistorySync(source, store, lambda: MemoryUnitOfWork(MemoryDatabase()), FixedClock(NOW))
    try:
        await sync.backfill("BTCUSDT", D1, D1)
    finally:
        await source.aclose()
    path = tmp_path / "data" / "BTCUSDT" / "2024" / "02" / "01.parquet"
    described = await store.describe_day("BTCUSDT", D1)
    assert described is not None
    assert described.uri == path.as_uri()
    assert described.checksum == hashlib.sha256(path.read_bytes()).hexdigest()
    assert [p.name for p in path.parent.iterdir()] == ["01.parquet"]  # no temporary file left behind


async def test_the_real_bybit_day_with_its_missing_afternoon(tmp_path: Path) -> None:
    """Lean's Bybit perpetual file for 2022-12-13 stops at 12:00: the other 719 minutes are a gap."""
    candles = bybit_csv_day(shared_data("candles", "derived", "bybit_linear_BTCUSDT_1m_2022-12-13.csv"))
    day = date(2022, 12, 13)
    with serving(FakeBybit(candles, server_time=day_start_ms(date(2023, 1, 1)))) as fake:
        store = local_candle_store(tmp_path, price_scales={"BTCUSDT": 2})
        source = BybitHistorySource(fake.url, min_interval_s=0)
        sync = HistorySync(source, store, lambda: MemoryUnitOfWork(MemoryDatabase()), FixedClock(NOW))
        try:
            report = await sync.backfill("BTCUSDT", day, day)
        finally:
            await source.aclose()
    (outcome,) = report.outcomes
    assert (outcome.status, outcome.rows, outcome.missing_bars) == (DayStatus.STORED, 721, 719)
    assert "GAP     BTCUSDT 2022-12-13: 719 minute(s) missing: 12:01-23:59" in report.summary()
    stored = await store.read_day("BTCUSDT", day)
    assert stored is not None
    assert [(c.open_time, c.open, c.close, c.volume) for c in stored] == [
        (c.open_time, c.open, c.close, c.volume) for c in candles
    ]
