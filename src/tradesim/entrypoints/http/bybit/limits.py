"""Per-key request limits with Bybit's headers: `X-Bapi-Limit` (requests per window),
`X-Bapi-Limit-Status` (left in this window), `X-Bapi-Limit-Reset-Timestamp` (ms when it resets).

Fixed one-second windows per (key, group of endpoints), counted in this process: each api process
counts its own requests (behind sticky sessions a bot's requests go to one process).
"""

from __future__ import annotations

import attrs

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
    def __init__(self, per_second: int) -> None:
        self.per_second = per_second
        self._windows: dict[tuple[str, str], tuple[int, int]] = {}

    def take(self, key: str, group: str, now_ms: int) -> LimitStatus:
        window = now_ms - now_ms % WINDOW_MS
        start, used = self._windows.get((key, group), (window, 0))
        if start != window:
            start, used = window, 0
            if len(self._windows) > 100_000:  # forget the windows of keys that went quiet
                self._windows = {k: v for k, v in self._windows.items() if v[0] == window}
        used += 1
        self._windows[(key, group)] = (start, used)
        return LimitStatus(self.per_second, self.per_second - used, start + WINDOW_MS)
