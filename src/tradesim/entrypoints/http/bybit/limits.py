"""Per-key request limits with Bybit's headers: `X-Bapi-Limit` (requests per window),
`X-Bapi-Limit-Status` (left in this window), `X-Bapi-Limit-Reset-Timestamp` (ms when it resets).

Fixed one-second windows per (key, group of endpoints), counted on the shared rate counters
(`ports.limits`: Redis when configured), so that a key's requests count alike on every api process.
While Redis is unreachable requests are admitted uncounted (as sockets are by their quota): the limit
protects the service, and refusing every bot for it would be the larger harm.
"""

from __future__ import annotations

import attrs

from tradesim.ports.errors import DependencyUnavailable
from tradesim.ports.limits import RateCounters

WINDOW_MS = 1000


@attrs.frozen
class LimitStatus:
    limit: int
    remaining: int
    reset_ms: int

    @property
    def exceeded(self) -> bool:
        return self.remaining < 0

    def headers(self) -> dict[str, str]:
        return {
            "X-Bapi-Limit": str(self.limit),
            "X-Bapi-Limit-Status": str(max(self.remaining, 0)),
            "X-Bapi-Limit-Reset-Timestamp": str(self.reset_ms),
        }


class KeyLimits:
    def __init__(self, counters: RateCounters, per_second: int) -> None:
        self.per_second = per_second
        self._counters = counters

    async def take(self, key: str, group: str, now_ms: int) -> LimitStatus:
        """Count one request of `key` to `group`; a refused request counts too (as Bybit's)."""
        try:
            used = await self._counters.count(f"bybit:{group}:{key}", WINDOW_MS, now_ms)
        except DependencyUnavailable:
            used = 1
        start = now_ms - now_ms % WINDOW_MS
        return LimitStatus(self.per_second, self.per_second - used, start + WINDOW_MS)
