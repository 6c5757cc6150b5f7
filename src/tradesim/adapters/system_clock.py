"""The real clock."""

from __future__ import annotations

import time


def wall_clock_ms() -> int:
    """Epoch milliseconds now, for adapters that take a clock as a plain callable."""
    return time.time_ns() // 1_000_000


class SystemClock:
    def now_ms(self) -> int:
        return wall_clock_ms()
