"""Bybit's per-key limits over the shared counters: exact on one process, never past the limit over
several, and a round trip to the counters once per lease of places rather than per request."""

from __future__ import annotations

import asyncio

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


class ReorderingCounters(MemoryRateCounters):
    """Answers come back in the reverse of the order they were counted in (as over several
    connections to Redis): the later a count, the fewer turns of the loop its answer waits."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    async def count(self, key: str, window_ms: int, now_ms: int, n: int = 1) -> int:
        used = await super().count(key, window_ms, now_ms, n)
        self.calls += 1
        for _ in range(100 - self.calls):
            await asyncio.sleep(0)
        return used


async def test_concurrent_requests_are_not_refused_while_their_places_are_on_the_way() -> None:
    limits = KeyLimits(ReorderingCounters(), 50)
    statuses = await asyncio.gather(*(limits.take("key", "order", T + i) for i in range(20)))
    assert not any(s.exceeded for s in statuses)
    assert sorted(s.remaining for s in statuses) == list(range(30, 50))
