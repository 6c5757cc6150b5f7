"""Revoked token families told within one process (the embedded default)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from tradesim.adapters.memory.messaging import _QueueSubscription


class MemoryRevocationSubscription(_QueueSubscription):
    async def __aiter__(self) -> AsyncIterator[str]:
        async for message in self._messages():
            yield message  # type: ignore[misc]


class MemoryRevocationBus:
    def __init__(self, capacity: int = 10_000) -> None:
        self._subscriptions: set[_QueueSubscription] = set()
        self._capacity = capacity

    async def publish(self, family_id: str) -> None:
        for subscription in list(self._subscriptions):
            subscription.offer(family_id)

    def subscribe(self) -> MemoryRevocationSubscription:
        return MemoryRevocationSubscription(self._subscriptions, self._capacity)
