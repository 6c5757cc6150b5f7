"""Counters that every api process shares (Redis when configured): sliding-window rate limits, fixed
windows (Bybit's per-key limits) and remembered facts with an expiry (an address the owner logged in from)."""

from __future__ import annotations

from typing import Protocol


class RateCounters(Protocol):
    async def take(self, key: str, limit: int, window_ms: int, now_ms: int) -> int:
        """Admit one more event under `key` when fewer than `limit` were admitted in the `window_ms`
        before `now_ms`, and return 0; else admit nothing and return the ms until one would be.
        A refused event does not count."""
        ...

    async def count(self, key: str, window_ms: int, now_ms: int, n: int = 1) -> int:
        """Count `n` events under `key` in the fixed window of `window_ms` that holds `now_ms` (windows
        start at multiples of `window_ms`) and return how many were counted in it, these included.
        Every call counts, whatever the caller then does with it."""
        ...

    async def remember(self, key: str, ttl_ms: int) -> None:
        """Keep `key` as a known fact for `ttl_ms`."""
        ...

    async def knows(self, key: str) -> bool: ...

    async def hold(self, key: str, member: str, limit: int, ttl_ms: int, now_ms: int) -> bool:
        """Hold one of `limit` places under `key` for `member` until `now_ms + ttl_ms` (renewing it when
        already held); False when `limit` others hold one. A holder that stops renewing loses its place."""
        ...

    async def let_go(self, key: str, member: str) -> None: ...
