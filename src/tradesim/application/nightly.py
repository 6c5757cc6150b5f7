"""The nightly history sync: a task that wakes at 00:05 UTC every day and stores yesterday.

`tradesim serve` runs `run_nightly` as a background task; in production the same job is a
scheduled ECS task (`tradesim history sync`, cron 00:05 UTC). Five minutes past midnight
leaves the exchange time to close the day's last candle.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from typing import Final

from tradesim.domain.bars import DAY_MS, day_of
from tradesim.ports.clock import Clock

SYNC_AT_MS: Final = 5 * 60_000  # 00:05 UTC, as ms after midnight
log = logging.getLogger(__name__)


def next_run_ms(now_ms: int, at_ms: int = SYNC_AT_MS) -> int:
    """The first `at_ms`-past-midnight UTC strictly after `now_ms`."""
    today_run = now_ms - now_ms % DAY_MS + at_ms
    return today_run if today_run > now_ms else today_run + DAY_MS


async def run_nightly(
    job: Callable[[date], Awaitable[object]],
    clock: Clock,
    *,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    at_ms: int = SYNC_AT_MS,
    runs: int | None = None,
) -> None:
    """Call `job(yesterday)` at every `at_ms` past midnight UTC, forever (or `runs` times).

    A failing job is logged and the schedule goes on: tomorrow's run tries again, and the
    sync being idempotent, a later backfill fills whatever was missed.
    """
    done = 0
    last_due = 0
    while runs is None or done < runs:
        now = clock.now_ms()
        due = next_run_ms(max(now, last_due), at_ms)
        if due > now:
            await sleep((due - now) / 1000)
        last_due = due
        day = day_of(due) - timedelta(days=1)
        try:
            await job(day)
        except Exception:
            log.exception("nightly history sync for %s failed; it runs again tomorrow", day)
        done += 1
