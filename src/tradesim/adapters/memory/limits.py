"""Rate counters in this process (one api process: the embedded default)."""

from __future__ import annotations

import time
from collections import deque

#: After this many admissions the counters drop the keys that have gone quiet (memory stays bounded).
PRUNE_EVERY = 1024


class MemoryRateCounters:
    def __init__(self) -> None:
        self._events: dict[str, deque[int]] = {}
        self._facts: dict[str, float] = {}
        self._since_prune = 0
        self._places: dict[str, dict[str, int]] = {}
        #: Fixed windows: key -> (window start, events counted in it).
        self._windows: dict[str, tuple[int, int]] = {}

    async def hold(self, key: str, member: str, limit: int, ttl_ms: int, now_ms: int) -> bool:
        places = self._places.setdefault(key, {})
        for gone in [m for m, until in places.items() if until <= now_ms]:
            del places[gone]
        if member not in places and len(places) >= limit:
            return False
        places[member] = now_ms + ttl_ms
        return True

    async def let_go(self, key: str, member: str) -> None:
        places = self._places.get(key)
        if places is not None:
            places.pop(member, None)
            if not places:
                del self._places[key]

    async def take(self, key: str, limit: int, window_ms: int, now_ms: int) -> int:
        events = self._events.setdefault(key, deque())
        while events and events[0] <= now_ms - window_ms:
            events.popleft()
        if len(events) >= limit:
            return events[0] + window_ms - now_ms
        events.append(now_ms)
        self._since_prune += 1
        if self._since_prune >= PRUNE_EVERY:
            self._prune(now_ms, window_ms)
        return 0

    async def count(self, key: str, window_ms: int, now_ms: int, n: int = 1) -> int:
        window = now_ms - now_ms % window_ms
        start, used = self._windows.get(key, (window, 0))
        if start != window:
            start, used = window, 0
            if len(self._windows) > 100_000:  # forget the windows of keys that went quiet
                self._windows = {k: v for k, v in self._windows.items() if v[0] == window}
        self._windows[key] = (start, used + n)
        return used + n

    async def remember(self, key: str, ttl_ms: int) -> None:
        self._facts[key] = time.monotonic() + ttl_ms / 1000

    async def knows(self, key: str) -> bool:
        until = self._facts.get(key)
        if until is not None and until <= time.monotonic():
            del self._facts[key]
            return False
        return until is not None

    def _prune(self, now_ms: int, window_ms: int) -> None:
        self._since_prune = 0
        # A key whose newest event left the longest window in use has nothing to say.
        stale = [key for key, events in self._events.items() if not events or events[-1] <= now_ms - window_ms]
        for key in stale:
            del self._events[key]
        now = time.monotonic()
        for key in [key for key, until in self._facts.items() if until <= now]:
            del self._facts[key]
