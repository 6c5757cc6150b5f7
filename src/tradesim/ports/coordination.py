"""Coordination between workers: who is alive, and who owns which partition."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol


class PartitionLeases(Protocol):
    """Time-limited ownership of partitions. A lease not renewed within its ttl is free again,
    so the partitions of a worker that died move to the others."""

    async def heartbeat(self, worker_id: str, ttl_ms: int) -> list[str]:
        """Mark `worker_id` alive for `ttl_ms`; returns every live worker id, sorted."""
        ...

    async def acquire(self, worker_id: str, partition: int, ttl_ms: int) -> bool:
        """Take a free partition (or keep one already held); False when another worker holds it."""
        ...

    async def renew(self, worker_id: str, partitions: Iterable[int], ttl_ms: int) -> set[int]:
        """Extend the leases still held by `worker_id`; returns those (a lost one is not renewed)."""
        ...

    async def release(self, worker_id: str, partitions: Iterable[int]) -> None:
        """Give partitions up (only those `worker_id` holds)."""
        ...

    async def leave(self, worker_id: str) -> None:
        """Stop counting `worker_id` as alive."""
        ...


def fair_share(worker_id: str, live_workers: list[str], partitions: int) -> set[int]:
    """Partitions `worker_id` should own: round-robin over the sorted live workers."""
    if worker_id not in live_workers:
        return set()
    index = live_workers.index(worker_id)
    return {p for p in range(partitions) if p % len(live_workers) == index}
