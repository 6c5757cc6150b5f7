"""Bybit's per-key limits over the shared counters: exact on one process, never past the limit over
several, and a round trip to the counters once per lease of places rather than per request."""

from __future__ import annotations

from tradesim.adapters.memory.limits import MemoryRateCounters
from tradesim.entrypoints.http.bybit.limits import WINDOW_MS, KeyLimits

T = 1_700_000_000_000 - 1_700_000_000_000 % WINDOW_MS


class CountedCounters(MemoryRateCounters):
    """The memory counters, telling how often they were asked to count."""

    def __init__(self) -> None:
        super().__init__()
        self.asked = 0

    async def count(self, key: str, window_ms: int, now_ms: int, n: int = 1) -> int:
        self.asked += 1
        return await super().count(key, window_ms, now_ms, n)


async def test_one_process_admits_exactly_the_limit_with_bybits_remaining_counts() -> None:
    counters = CountedCounters()
    limits = KeyLimits(counters, 50)
    statuses = [await limits.take("key", "order", T + i) for i in range(51)]
    assert [s.remaining for s in statuses[:50]] == list(range(49, -1, -1))
    assert statuses[50].exceeded
    assert {s.reset_ms for s in statuses} == {T + WINDOW_MS}
    assert counters.asked == 11, "one round trip per lease of five, and one for the refusal"
    assert not (await limits.take("key", "order", T + WINDOW_MS)).exceeded, "a new window"
    assert not (await limits.take("key", "position", T + 10)).exceeded, "groups count apart"


async def test_processes_sharing_the_counters_never_admit_past_the_limit() -> None:
    counters = MemoryRateCounters()
    processes = [KeyLimits(counters, 50), KeyLimits(counters, 50), KeyLimits(counters, 50)]
    admitted = 0
    for i in range(200):
        admitted += not (await processes[i % 3].take("key", "order", T + i % WINDOW_MS)).exceeded
    assert 40 <= admitted <= 50, "at most the places the other processes leased and left unused are lost"
