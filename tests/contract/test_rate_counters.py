"""Contract of the shared rate counters: at most `limit` in any window, refusals do not count, facts expire."""

from __future__ import annotations

import asyncio

from tradesim.ports.limits import RateCounters

MINUTE = 60_000
T = 1_700_000_000_000


async def test_at_most_limit_in_any_window(rate_counters: RateCounters) -> None:
    assert [await rate_counters.take("a", 3, MINUTE, T + i) for i in range(3)] == [0, 0, 0]
    assert await rate_counters.take("a", 3, MINUTE, T + 10) == MINUTE - 10, "until the oldest leaves the window"
    assert await rate_counters.take("b", 3, MINUTE, T + 10) == 0, "keys count apart"
    assert await rate_counters.take("a", 3, MINUTE, T + MINUTE - 1) == 1
    assert await rate_counters.take("a", 3, MINUTE, T + MINUTE) == 0, "the oldest left"
    assert await rate_counters.take("a", 3, MINUTE, T + MINUTE) > 0


async def test_refusals_do_not_count(rate_counters: RateCounters) -> None:
    await rate_counters.take("r", 1, MINUTE, T)
    for i in range(10):
        assert await rate_counters.take("r", 1, MINUTE, T + 1000 * i + 1) > 0
    assert await rate_counters.take("r", 1, MINUTE, T + MINUTE) == 0


async def test_remembered_facts_expire(rate_counters: RateCounters) -> None:
    assert not await rate_counters.knows("k")
    await rate_counters.remember("k", 100)
    await rate_counters.remember("long", 60_000)
    assert await rate_counters.knows("k")
    await asyncio.sleep(0.2)
    assert not await rate_counters.knows("k")
    assert await rate_counters.knows("long")


async def test_places_are_held_up_to_the_limit_and_freed(rate_counters: RateCounters) -> None:
    assert await rate_counters.hold("ws", "a", 2, 10_000, T)
    assert await rate_counters.hold("ws", "b", 2, 10_000, T)
    assert not await rate_counters.hold("ws", "c", 2, 10_000, T)
    assert await rate_counters.hold("ws", "a", 2, 10_000, T + 5_000), "a holder renews its own place"
    await rate_counters.let_go("ws", "b")
    assert await rate_counters.hold("ws", "c", 2, 10_000, T + 5_000)
    assert not await rate_counters.hold("ws", "d", 2, 10_000, T + 9_000)
    assert await rate_counters.hold("ws", "d", 2, 10_000, T + 15_001), "a's place lapsed unrenewed"
    assert await rate_counters.hold("other", "a", 1, 10_000, T), "keys hold apart"


async def test_fixed_windows_count_every_event_and_start_afresh(rate_counters: RateCounters) -> None:
    window = 1000
    start = T - T % window
    assert [await rate_counters.count("w", window, start + i) for i in range(3)] == [1, 2, 3]
    assert await rate_counters.count("other", window, start + 5) == 1, "keys count apart"
    assert await rate_counters.count("w", window, start + window - 1) == 4, "the last ms is in the window"
    assert await rate_counters.count("w", window, start + window) == 1, "a new window starts at zero"
    assert await rate_counters.count("w", window, start + 2 * window + 7) == 1
    assert await rate_counters.count("w", window, start + 2 * window + 8, n=5) == 6, "several at once"
