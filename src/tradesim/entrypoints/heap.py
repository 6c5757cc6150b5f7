"""Keeping the cyclic garbage collector's pauses out of the long-lived processes' latency.

A collection of the oldest generation visits every tracked object the process holds, and the
process stands still meanwhile. In bench/order_latency.py a worker's first full collections after
start-up took 37 to 93 ms (some 100,000 objects built while it started and rebuilt its engine), and
at 500 orders/s each one put the orders in flight behind it into the p99.
"""

from __future__ import annotations

import gc
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
