"""History sync and backfill against in-memory ports: idempotence, repair, and gaps that are reported."""

from __future__ import annotations

from datetime import date

import pytest

from tests.support.candles import walk
from tradesim.adapters.memory.clock import FixedClock
from tradesim.adapters.memory.market_data import ListHistorySource
from tradesim.adapters.memory.storage import MemoryCandleStore
from tradesim.adapters.memory.tables import MemoryDatabase
from tradesim.adapters.memory.unit_of_work import MemoryUnitOfWork
from tradesim.application.history import EXIT_FAILED, EXIT_GAPS, EXIT_OK, DayStatus, HistorySync
from tradesim.domain.bars import DAY_MS, day_start_ms
from tradesim.domain.enums import Category
from tradesim.domain.errors import InvalidInput
from tradesim.domain.market import Candle
from tradesim.ports.errors import ExchangeUnavailable

D1, D2, D3 = date(2024, 1, 1), date(2024, 1, 2), date(2024, 1, 3)
NOW = day_start_ms(date(2024, 1, 10)) + 3_600_000


def day_of_candles(day: date, symbol: str = "BTCUSDT", skip: tuple[int, ...] = ()) -> list[Candle]:
    return [c for i, c in enumerate(walk(symbol, day_start_ms(day), 1440, seed=day.toordinal())) if i not in skip]


class World:
    def __init__(self, candles: list[Candle]) -> None:
        self.source = ListHistorySource(candles)
        self.store = MemoryCandleStore()
        self.database = MemoryDatabase()
        self.clock = FixedClock(NOW)
        self.sync = HistorySync(self.source, self.store, lambda: MemoryUnitOfWork(self.database), self.clock)

    def index(self) -> dict[object, object]:
        return dict(self.database.tables.candle_files)


async def test_backfill_stores_each_day_then_indexes_it() -> None:
    world = World(day_of_candles(D1) + day_of_candles(D2))
    seen: list[DayStatus] = []
    report = await world.sync.backfill("BTCUSDT", D1, D2, on_day=lambda o: seen.append(o.status))
    assert seen == [DayStatus.STORED, DayStatus.STORED]
    assert report.exit_code == EXIT_OK
    assert [(o.day, o.rows, o.gaps) for o in report.outcomes] == [(D1, 1440, ()), (D2, 1440, ())]
    stored = await world.store.read_day("BTCUSDT", D1)
    assert stored == day_of_candles(D1)
    assert {key[2] for key in world.index()} == {D1, D2}
    assert world.source.calls == [
        ("BTCUSDT", day_start_ms(D1), day_start_ms(D1) + DAY_MS),
        ("BTCUSDT", day_start_ms(D2), day_start_ms(D2) + DAY_MS),
    ]


async def test_a_second_run_fetches_nothing_and_changes_nothing() -> None:
    world = World(day_of_candles(D1) + day_of_candles(D2))
    await world.sync.backfill("BTCUSDT", D1, D2)
    index, files, calls = world.index(), dict(world.store.days), list(world.source.calls)
    again = await world.sync.backfill("BTCUSDT", D1, D2)
    assert [o.status for o in again.outcomes] == [DayStatus.SKIPPED, DayStatus.SKIPPED]
    assert world.source.calls == calls
    assert world.index() == index
    assert world.store.days == files


async def test_a_file_without_its_index_row_is_reindexed_without_fetching() -> None:
    world = World(day_of_candles(D1))
    await world.sync.backfill("BTCUSDT", D1, D1)
    index = world.index()
    world.database.tables.candle_files.clear()  # as if the process died between the write and the index
    calls = len(world.source.calls)
    report = await world.sync.backfill("BTCUSDT", D1, D1)
    assert report.outcomes[0].status is DayStatus.REINDEXED
    assert len(world.source.calls) == calls
    assert world.index() == index


async def test_missing_days_and_minutes_are_reported_never_skipped() -> None:
    world = World(day_of_candles(D1, skip=(0, 1, 700)) + day_of_candles(D3))
    report = await world.sync.backfill("BTCUSDT", D1, D3)
    assert [o.status for o in report.outcomes] == [DayStatus.STORED, DayStatus.MISSING, DayStatus.STORED]
    assert report.exit_code == EXIT_GAPS
    start = day_start_ms(D1)
    assert report.outcomes[0].gaps == ((start, start + 60_000), (start + 700 * 60_000, start + 700 * 60_000))
    assert report.outcomes[1].missing_bars == 1440
    assert not await world.store.has_day("BTCUSDT", D2)
    lines = report.summary()
    assert lines[0] == "3 day(s): 2 stored, 1 missing"
    assert "GAP     BTCUSDT 2024-01-01: 3 minute(s) missing: 00:00-00:01, 11:40" in lines
    assert "GAP     BTCUSDT 2024-01-02: the exchange returned no candles for the whole day" in lines
    # Run again: the stored day is skipped but its gaps are still reported; the empty day is asked again.
    again = await world.sync.backfill("BTCUSDT", D1, D3)
    assert [o.status for o in again.outcomes] == [DayStatus.SKIPPED, DayStatus.MISSING, DayStatus.SKIPPED]
    assert again.outcomes[0].gaps == report.outcomes[0].gaps
    assert again.exit_code == EXIT_GAPS


async def test_an_unreachable_exchange_fails_the_day_and_the_run_goes_on() -> None:
    class Flaky(ListHistorySource):
        async def fetch_candles(
            self, symbol: str, start_ms: int, end_ms: int, *, category: Category = Category.LINEAR
        ) -> list[Candle]:
            if start_ms == day_start_ms(D1):
                raise ExchangeUnavailable("Bybit /v5/market/kline: HTTP 503 (gave up after 6 attempts)")
            return await super().fetch_candles(symbol, start_ms, end_ms, category=category)

    world = World([])
    world.sync = HistorySync(
        Flaky(day_of_candles(D2)), world.store, lambda: MemoryUnitOfWork(world.database), world.clock
    )
    report = await world.sync.backfill("BTCUSDT", D1, D2)
    assert [o.status for o in report.outcomes] == [DayStatus.FAILED, DayStatus.STORED]
    assert report.exit_code == EXIT_FAILED
    assert "FAILED  BTCUSDT 2024-01-01: Bybit /v5/market/kline: HTTP 503 (gave up after 6 attempts)" in report.summary()


async def test_sync_takes_yesterday_for_every_symbol_and_refuses_days_not_over() -> None:
    yesterday = date(2024, 1, 9)
    world = World(day_of_candles(yesterday) + day_of_candles(yesterday, symbol="ETHUSDT"))
    report = await world.sync.sync(["BTCUSDT", "ETHUSDT"])
    assert [(o.symbol, o.day, o.status) for o in report.outcomes] == [
        ("BTCUSDT", yesterday, DayStatus.STORED),
        ("ETHUSDT", yesterday, DayStatus.STORED),
    ]
    with pytest.raises(InvalidInput, match="2024-01-10 has not ended yet"):
        await world.sync.sync(["BTCUSDT"], date(2024, 1, 10))
    with pytest.raises(InvalidInput, match="before start"):
        await world.sync.backfill("BTCUSDT", D2, D1)
