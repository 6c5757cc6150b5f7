"""The nightly schedule, on an injected clock and sleep."""

from __future__ import annotations

from datetime import date

from tradesim.adapters.memory.clock import FixedClock
from tradesim.application.nightly import next_run_ms, run_nightly
from tradesim.domain.bars import day_start_ms

MIDNIGHT = day_start_ms(date(2024, 5, 1))
FIVE_PAST = MIDNIGHT + 5 * 60_000


def test_next_run_is_the_next_five_past_midnight_utc() -> None:
    assert next_run_ms(MIDNIGHT) == FIVE_PAST
    assert next_run_ms(FIVE_PAST - 1) == FIVE_PAST
    assert next_run_ms(FIVE_PAST) == FIVE_PAST + 86_400_000
    assert next_run_ms(MIDNIGHT + 13 * 3_600_000) == FIVE_PAST + 86_400_000


async def test_runs_yesterday_at_each_five_past_midnight_and_survives_a_failure() -> None:
    clock = FixedClock(MIDNIGHT - 3_600_000)  # 23:00 the day before
    sleeps: list[float] = []
    days: list[date] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        clock.advance(int(seconds * 1000))

    async def job(day: date) -> None:
        days.append(day)
        clock.advance(90_000)  # the sync takes a while
        if len(days) == 1:
            raise RuntimeError("exchange down")

    await run_nightly(job, clock, sleep=sleep, runs=3)
    assert days == [date(2024, 4, 30), date(2024, 5, 1), date(2024, 5, 2)]
    assert sleeps == [3900.0, 86_310.0, 86_310.0]


async def test_a_timer_that_fires_early_does_not_run_the_job_twice() -> None:
    clock = FixedClock(FIVE_PAST - 1000)
    days: list[date] = []

    async def sleep(seconds: float) -> None:
        clock.advance(int(seconds * 1000) - 5)  # wakes 5 ms early

    async def job(day: date) -> None:
        days.append(day)

    await run_nightly(job, clock, sleep=sleep, runs=2)
    assert days == [date(2024, 4, 30), date(2024, 5, 1)]
