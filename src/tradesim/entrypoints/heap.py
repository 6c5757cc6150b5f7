"""Keeping the cyclic garbage collector's pauses out of the long-lived processes' latency.

A collection of the oldest generation visits every tracked object the process holds, and the
process stands still meanwhile. In bench/order_latency.py a worker's first full collections after
start-up took 37 to 93 ms (some 100,000 objects built while it started and rebuilt its engine), and
at 500 orders/s each one put the orders in flight behind it into the p99.
"""

from __future__ import annotations

import bisect
import gc
import itertools
import time
from collections.abc import AsyncGenerator

#: A server allocates many short-lived objects per request, few of them in cycles: collect the
#: young generation less often than CPython's default (700).
SERVER_THRESHOLD = (10_000, 20, 20)


def settle_heap() -> None:
    """Collect everything once, then keep what survives out of every later collection.

    Called where a process has built what it keeps: at start-up, once the api serves, after
    each take-over of a worker. Unfreezing first lets this collection free what an earlier
    settle kept and what has become garbage since (a worker's engine from before a take-over).
    """
    gc.unfreeze()
    gc.collect()
    gc.freeze()


def tune_heap(threshold: tuple[int, int, int] = SERVER_THRESHOLD) -> None:
    """Settle what the process built so far and set the collector's thresholds."""
    settle_heap()
    gc.set_threshold(*threshold)


async def settled_while_serving() -> AsyncGenerator[None, None]:
    """For Quart's `while_serving`, registered after the app's own: settles the heap once the
    app has started what it runs, before the first request."""
    settle_heap()
    yield


#: Upper bounds (seconds) of the pause histogram's buckets; a server's young collections take
#: well under a millisecond, a full one of a large heap tens of milliseconds.
PAUSE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25)


class GcPauses:
    """The collector's pauses, per generation, as a histogram a metrics scrape reads.

    A `gc.callbacks` entry runs inside whatever allocation set the collection off, which may be
    one made while a Prometheus metric holds its (non-reentrant) lock: observing a metric from
    there could deadlock the process. So the callback only adds to plain lists, and `snapshot`
    copies them when asked (the scrape, on the event loop).
    """

    def __init__(self, buckets: tuple[float, ...] = PAUSE_BUCKETS) -> None:
        self.buckets = buckets
        # per generation: one count per bucket (not cumulative), then the pauses above the last
        self._counts = [[0] * (len(buckets) + 1) for _ in range(3)]
        self._seconds = [0.0, 0.0, 0.0]
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        pause = time.perf_counter() - self._started
        generation = info["generation"]
        self._counts[generation][bisect.bisect_left(self.buckets, pause)] += 1
        self._seconds[generation] += pause

    def install(self) -> None:
        if self not in gc.callbacks:
            gc.callbacks.append(self)

    def uninstall(self) -> None:
        if self in gc.callbacks:
            gc.callbacks.remove(self)

    def snapshot(self) -> list[tuple[int, list[int], float]]:
        """Per generation: its cumulative bucket counts (the last one every pause) and the sum
        of its pauses in seconds."""
        found = []
        for generation in range(3):
            counts, total = list(self._counts[generation]), self._seconds[generation]
            found.append((generation, list(itertools.accumulate(counts)), total))
        return found
