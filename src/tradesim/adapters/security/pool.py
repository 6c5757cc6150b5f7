"""A bounded pool of threads for slow, CPU-bound work done on request (password hashes): its own
threads, so a flood of logins cannot take the event loop's default executor from everything else, and a
bounded queue, so that the flood is refused at once (503, retry shortly) instead of waiting in line."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from tradesim.ports.errors import Overloaded

T = TypeVar("T")


class BoundedPool:
    def __init__(self, threads: int, queue: int, *, name: str = "pool") -> None:
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix=name)
        self._capacity = threads + queue
        self._name = name
        self._in_flight = 0

    @property
    def in_flight(self) -> int:
        return self._in_flight

    async def run(self, fn: Callable[..., T], *args: object) -> T:
        """`fn(*args)` on one of the pool's threads. Raises `Overloaded` when every thread is busy and the
        queue full."""
        if self._in_flight >= self._capacity:
            raise Overloaded(f"the server is busy ({self._name}); retry in a moment")
        self._in_flight += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)
        finally:
            self._in_flight -= 1

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
