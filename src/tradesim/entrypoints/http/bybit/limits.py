"""Per-key request limits with Bybit's headers: `X-Bapi-Limit` (requests per window),
`X-Bapi-Limit-Status` (left in this window), `X-Bapi-Limit-Reset-Timestamp` (ms when it resets).

Fixed one-second windows per (key, group of endpoints), counted on the shared rate counters
(`ports.limits`: Redis when configured), so that a key's limit is one over every api process.
A process does not ask the counters for each request: it takes a lease of places at a time (a tenth
of the limit) and admits requests from it until it is used up, so a bot's requests cost a round trip
to Redis once per lease, not each. The price: places leased by one process and left unused in a
window are not used by another, so a key whose requests are spread over several processes may be
refused a little before its limit (never after it); with one process (or sticky sessions) the count
is exact. While Redis is unreachable requests are admitted uncounted (as sockets are by their quota):
the limit protects the service, and refusing every bot for it would be the larger harm.
"""

from __future__ import annotations

import asyncio

import attrs

from tradesim.ports.errors import DependencyUnavailable
from tradesim.ports.limits import RateCounters

WINDOW_MS = 1000
#: Windows held for this many keys at most before those of past windows are forgotten.
MAX_HELD = 100_000


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


@attrs.define
class _Lease:
    """A key's places in one window: `left` of this process's leases unused, `used` over every process
    when the last lease was counted. One lease is asked for at a time (`asking`): answers of
    concurrent ones could come back out of order, and a request could then be refused while places
    leased for it were still on their way."""

    window: int
    left: int = 0
    used: int = 0
    asking: asyncio.Lock = attrs.field(factory=asyncio.Lock)


class KeyLimits:
    def __init__(self, counters: RateCounters, per_second: int) -> None:
        self.per_second = per_second
        self._counters = counters
        self._leases: dict[str, _Lease] = {}

    @property
    def lease_size(self) -> int:
        return max(1, self.per_second // 10)

    async def take(self, key: str, group: str, now_ms: int) -> LimitStatus:
        """Count one request of `key` to `group`; a refused request counts too (as Bybit's)."""
        name = f"bybit:{group}:{key}"
        window = now_ms - now_ms % WINDOW_MS
        lease = self._lease(name, window)
        if lease.left == 0:
            async with lease.asking:
                if lease.left == 0:  # no lease came back while this request waited its turn
                    size = self.lease_size
                    try:
                        used = await self._counters.count(name, WINDOW_MS, now_ms, n=size)
                    except DependencyUnavailable:
                        used = 0
                    lease.left += max(0, min(size, self.per_second - (used - size)))
                    lease.used = max(lease.used, min(used, self.per_second))
        reset = window + WINDOW_MS
        if lease.left == 0:
            return LimitStatus(self.per_second, -1, reset)
        lease.left -= 1
        return LimitStatus(self.per_second, self.per_second - (lease.used - lease.left), reset)

    def _lease(self, name: str, window: int) -> _Lease:
        lease = self._leases.get(name)
        if lease is None or lease.window != window:
            if len(self._leases) >= MAX_HELD:  # forget the windows of keys that went quiet
                self._leases = {k: v for k, v in self._leases.items() if v.window == window}
            lease = self._leases[name] = _Lease(window)
        return lease
