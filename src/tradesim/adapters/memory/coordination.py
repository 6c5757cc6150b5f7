"""In-process leases: one process owns everything, but the semantics match the Redis adapter."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable


def _monotonic_ms() -> float:
    return time.monotonic() * 1000


class MemoryPartitionLeases:
    def __init__(self, clock_ms: Callable[[], float] = _monotonic_ms) -> None:
        """`clock_ms`: what leases expire by (a test's clock lets them lapse on demand)."""
        self._now = clock_ms
        self._leases: dict[int, tuple[str, float]] = {}
        self._workers: dict[str, float] = {}

    async def heartbeat(self, worker_id: str, ttl_ms: int) -> list[str]:
        now = self._now()
        self._workers[worker_id] = now + ttl_ms
        return sorted(w for w, until in self._workers.items() if until > now)

    async def acquire(self, worker_id: str, partition: int, ttl_ms: int) -> bool:
        now = self._now()
        holder = self._leases.get(partition)
        if holder is not None and holder[0] != worker_id and holder[1] > now:
            return False
        self._leases[partition] = (worker_id, now + ttl_ms)
        return True

    async def renew(self, worker_id: str, partitions: Iterable[int], ttl_ms: int) -> set[int]:
        now = self._now()
        held: set[int] = set()
        for partition in partitions:
            holder = self._leases.get(partition)
            if holder is not None and holder[0] == worker_id and holder[1] > now:
                self._leases[partition] = (worker_id, now + ttl_ms)
                held.add(partition)
        return held

    async def release(self, worker_id: str, partitions: Iterable[int]) -> None:
        for partition in partitions:
            holder = self._leases.get(partition)
            if holder is not None and holder[0] == worker_id:
                del self._leases[partition]

    async def leave(self, worker_id: str) -> None:
        self._workers.pop(worker_id, None)
