"""History sync and backfill: exchange candles into the object store, one file per UTC day, then the index.

Idempotent by construction. For each (symbol, day):
- a stored file whose `candle_files` row matches it (uri, rows, checksum) is skipped;
- a stored file without a matching row (the process died between the write and the index,
  or the row was lost) gets its row back from the file, without asking the exchange;
- otherwise the day is fetched, written atomically, and indexed.
Nothing is skipped silently: a day the exchange returned nothing for, and every minute missing
inside a stored day, come back in the report, whose `exit_code` is non-zero when any exist.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, timedelta
from enum import StrEnum

import attrs

from tradesim.domain.bars import BARS_PER_DAY, DAY_MS, day_of, day_start_ms, missing_minutes
from tradesim.domain.enums import Category
from tradesim.domain.errors import InvalidInput
from tradesim.domain.history import CandleFile
from tradesim.ports.clock import Clock
from tradesim.ports.errors import ExchangeRejected, ExchangeUnavailable
from tradesim.ports.market_data import HistorySource
from tradesim.ports.storage import CandleStore
from tradesim.ports.unit_of_work import UnitOfWorkFactory

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_GAPS = 3


class DayStatus(StrEnum):
    STORED = "stored"  # fetched and written now
    SKIPPED = "skipped"  # already stored and indexed
    REINDEXED = "reindexed"  # the file was there; its index row was missing or stale
    MISSING = "missing"  # the exchange has no candle for the day: nothing written
    FAILED = "failed"  # the exchange could not be asked (see `error`)


@attrs.frozen(slots=True)
class DayOutcome:
    """What happened to one day; `gaps` are the runs of minutes with no candle (first, last open time)."""

    symbol: str
    day: date
    status: DayStatus
    rows: int = 0
    gaps: tuple[tuple[int, int], ...] = ()
    error: str = ""

    @property
    def missing_bars(self) -> int:
        return sum((last - first) // 60_000 + 1 for first, last in self.gaps)


@attrs.frozen(slots=True)
class HistoryReport:
    outcomes: tuple[DayOutcome, ...]

    def with_status(self, *statuses: DayStatus) -> list[DayOutcome]:
        return [o for o in self.outcomes if o.status in statuses]

    @property
    def incomplete(self) -> list[DayOutcome]:
        """Days stored with minutes missing, and days with no candles at all."""
        return [
            o for o in self.outcomes if o.status is DayStatus.MISSING or (o.gaps and o.status is not DayStatus.FAILED)
        ]

    @property
    def exit_code(self) -> int:
        """0 complete; 3 some days have gaps or no data; 1 some days could not be fetched at all."""
        if self.with_status(DayStatus.FAILED):
            return EXIT_FAILED
        return EXIT_GAPS if self.incomplete else EXIT_OK

    def summary(self) -> list[str]:
        """Lines a person reads at the end of a run: counts, then every gap and failure."""
        counts = ", ".join(f"{len(self.with_status(s))} {s.value}" for s in DayStatus if self.with_status(s))
        lines = [f"{len(self.outcomes)} day(s): {counts or 'nothing to do'}"]
        for o in self.outcomes:
            if o.status is DayStatus.FAILED:
                lines.append(f"FAILED  {o.symbol} {o.day}: {o.error}")
            elif o.status is DayStatus.MISSING:
                lines.append(f"GAP     {o.symbol} {o.day}: the exchange returned no candles for the whole day")
            elif o.gaps:
                runs = ", ".join(_span(first, last) for first, last in o.gaps[:5])
                more = f" and {len(o.gaps) - 5} more run(s)" if len(o.gaps) > 5 else ""
                lines.append(f"GAP     {o.symbol} {o.day}: {o.missing_bars} minute(s) missing: {runs}{more}")
        return lines


def _span(first: int, last: int) -> str:
    def hhmm(ms: int) -> str:
        minute = (ms % DAY_MS) // 60_000
        return f"{minute // 60:02d}:{minute % 60:02d}"

    return hhmm(first) if first == last else f"{hhmm(first)}-{hhmm(last)}"


def parse_day(text: str, field: str = "date") -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{field} must be a date as YYYY-MM-DD, got {text!r}") from None


class HistorySync:
    def __init__(
        self,
        source: HistorySource,
        store: CandleStore,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        *,
        category: Category = Category.LINEAR,
    ) -> None:
        self._source = source
        self._store = store
        self._uow = uow_factory
        self._clock = clock
        self._category = category

    def yesterday(self) -> date:
        return day_of(self._clock.now_ms()) - timedelta(days=1)

    def check_closed(self, day: date) -> None:
        """Only whole days are stored: a day still running (or to come) would be written incomplete."""
        if day_start_ms(day) + DAY_MS > self._clock.now_ms():
            raise InvalidInput(
                f"{day} has not ended yet (UTC); the latest day that can be stored is {self.yesterday()}"
            )

    async def sync(
        self, symbols: Sequence[str], day: date | None = None, *, on_day: Callable[[DayOutcome], None] | None = None
    ) -> HistoryReport:
        """One day (default: yesterday, UTC) for every symbol: the nightly job."""
        day = day or self.yesterday()
        self.check_closed(day)
        outcomes = []
        for symbol in symbols:
            outcome = await self.day(symbol, day)
            outcomes.append(outcome)
            if on_day:
                on_day(outcome)
        return HistoryReport(tuple(outcomes))

    async def backfill(
        self, symbol: str, start: date, end: date, *, on_day: Callable[[DayOutcome], None] | None = None
    ) -> HistoryReport:
        """Every day from `start` to `end`, both included, oldest first."""
        if end < start:
            raise InvalidInput(f"end {end} is before start {start}")
        self.check_closed(end)
        outcomes = []
        for offset in range((end - start).days + 1):
            outcome = await self.day(symbol, start + timedelta(days=offset))
            outcomes.append(outcome)
            if on_day:
                on_day(outcome)
        return HistoryReport(tuple(outcomes))

    async def day(self, symbol: str, day: date) -> DayOutcome:
        async with self._uow() as uow:
            indexed = await uow.candle_files.get(symbol, day)
        stored = await self._store.describe_day(symbol, day)
        if stored is not None:
            stored = attrs.evolve(stored, category=self._category.value)
            if indexed is not None and _same_file(indexed, stored):
                return await self._known(symbol, day, stored, DayStatus.SKIPPED)
            await self._index(stored)
            return await self._known(symbol, day, stored, DayStatus.REINDEXED)
        start = day_start_ms(day)
        try:
            candles = await self._source.fetch_candles(symbol, start, start + DAY_MS, category=self._category)
        except (ExchangeUnavailable, ExchangeRejected) as error:
            return DayOutcome(symbol, day, DayStatus.FAILED, error=error.message)
        if not candles:
            return DayOutcome(symbol, day, DayStatus.MISSING, gaps=((start, start + DAY_MS - 60_000),))
        written = await self._store.write_day(symbol, day, candles)
        await self._index(attrs.evolve(written, category=self._category.value))
        gaps = missing_minutes(day, (c.open_time for c in candles))
        return DayOutcome(symbol, day, DayStatus.STORED, rows=written.rows, gaps=tuple(gaps))

    async def _index(self, entry: CandleFile) -> None:
        async with self._uow() as uow:
            await uow.candle_files.record(entry)
            await uow.commit()

    async def _known(self, symbol: str, day: date, stored: CandleFile, status: DayStatus) -> DayOutcome:
        """A day already stored: its gaps are read back from the file (only when rows are short)."""
        gaps: list[tuple[int, int]] = []
        if stored.rows < BARS_PER_DAY:
            (bars,) = await self._store.read_bars(symbol, [day])
            gaps = missing_minutes(day, bars.open_time if bars is not None else ())
        return DayOutcome(symbol, day, status, rows=stored.rows, gaps=tuple(gaps))


def _same_file(indexed: CandleFile, stored: CandleFile) -> bool:
    return (indexed.uri, indexed.rows, indexed.checksum, indexed.category) == (
        stored.uri,
        stored.rows,
        stored.checksum,
        stored.category,
    )
