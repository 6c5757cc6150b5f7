"""Clocks for tests."""

from __future__ import annotations


class FixedClock:
    """A `Clock` port adapter that returns what it was set to."""

    def __init__(self, now_ms: int) -> None:
        self.now = now_ms

    def now_ms(self) -> int:
        return self.now

    def advance(self, ms: int) -> None:
        self.now += ms
