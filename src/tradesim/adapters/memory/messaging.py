"""In-process bus and queue: the embedded defaults of `tradesim serve`."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import AsyncIterator, Callable, Iterable, Sequence

import attrs

from tradesim.domain.commands import Command
from tradesim.domain.events import EngineEvent
from tradesim.domain.market import MarketEvent
from tradesim.ports.messaging import Delivery, EventFilter, routing_key, stable_partition

_CLOSED = object()


class _QueueSubscription:
    """Messages pushed into a bounded queue; when full, the oldest is dropped (latest wins)."""

    def __init__(self, owner: set[_QueueSubscription], capacity: int) -> None:
        self._owner = owner
        self._queue: asyncio.Queue[object] = asyncio.Queue(maxsize=capacity)
        self.dropped = 0
        owner.add(self)

    def offer(self, message: object) -> None:
        if self._queue.full():
            self._queue.get_nowait()
            self.dropped += 1
        self._queue.put_nowait(message)

    async def _messages(self) -> AsyncIterator[object]:
        while True:
            message = await self._queue.get()
            if message is _CLOSED:
                return
            yield message

    async def aclose(self) -> None:
        if self in self._owner:
            self._owner.discard(self)
            if self._queue.full():
                self._queue.get_nowait()
            self._queue.put_nowait(_CLOSED)


class MemoryPriceSubscription(_QueueSubscription):
    def __init__(self, owner: set[_QueueSubscription], symbols: Iterable[str], capacity: int) -> None:
        super().__init__(owner, capacity)
        self.symbols = frozenset(symbols)

    async def __aiter__(self) -> AsyncIterator[MarketEvent]:
        async for message in self._messages():
            yield message  # type: ignore[misc]


class MemoryPriceBus:
    def __init__(self, capacity: int = 10_000) -> None:
        self._subscriptions: set[_QueueSubscription] = set()
        self._capacity = capacity

    async def publish(self, event: MarketEvent) -> None:
        for subscription in list(self._subscriptions):
            assert isinstance(subscription, MemoryPriceSubscription)
            if event.symbol in subscription.symbols:
                subscription.offer(event)

    def subscribe(self, symbols: Iterable[str]) -> MemoryPriceSubscription:
        return MemoryPriceSubscription(self._subscriptions, symbols, self._capacity)


class MemoryEventSubscription(_QueueSubscription):
    def __init__(self, owner: set[_QueueSubscription], capacity: int, wanted: EventFilter | None = None) -> None:
        super().__init__(owner, capacity)
        self.accounts: set[str] = set()
        self.wanted = wanted

    async def watch(self, account_id: str) -> None:
        self.accounts.add(account_id)

    async def unwatch(self, account_id: str) -> None:
        self.accounts.discard(account_id)

    async def __aiter__(self) -> AsyncIterator[EngineEvent]:
        async for message in self._messages():
            yield message  # type: ignore[misc]


class MemoryEventBus:
    def __init__(self, capacity: int = 100_000) -> None:
        self._subscriptions: set[_QueueSubscription] = set()
        self._capacity = capacity

    async def publish(self, events: Sequence[EngineEvent]) -> None:
        for subscription in list(self._subscriptions):
            assert isinstance(subscription, MemoryEventSubscription)
            wanted = subscription.wanted
            for event in events:
                account_id = event.account_id
                if account_id in subscription.accounts and (wanted is None or wanted(account_id, type(event))):
                    subscription.offer(event)

    def subscribe(self, wanted: EventFilter | None = None) -> MemoryEventSubscription:
        return MemoryEventSubscription(self._subscriptions, self._capacity, wanted)


@attrs.define
class _Entry:
    delivery_id: str
    partition: int
    command: Command
    consumer: str = ""
    delivered_at: float = 0.0
    attempts: int = 0


class MemoryOrderQueue:
    """Partitioned, acknowledged delivery with reclaim of entries whose consumer went quiet."""

    def __init__(self, partitions: int = 1) -> None:
        self.partitions = partitions
        self._entries: dict[int, dict[str, _Entry]] = {p: {} for p in range(partitions)}
        self._ids = itertools.count(1)
        self._arrived = asyncio.Event()

    def partition_of(self, symbol: str) -> int:
        return stable_partition(symbol, self.partitions)

    async def enqueue(self, command: Command) -> str:
        partition = self.partition_of(routing_key(command))
        delivery_id = f"{next(self._ids)}-0"
        self._entries[partition][delivery_id] = _Entry(delivery_id, partition, command)
        self._arrived.set()
        return delivery_id

    async def enqueue_many(self, commands: Sequence[Command]) -> list[str]:
        return [await self.enqueue(command) for command in commands]

    async def receive(
        self,
        consumer: str,
        partitions: Sequence[int],
        *,
        max_count: int = 100,
        block_ms: int = 1000,
        ack: Sequence[Delivery] = (),
    ) -> list[Delivery]:
        await self.ack(ack)
        deadline = time.monotonic() + block_ms / 1000
        while True:
            found = self._take(consumer, partitions, max_count, lambda e: e.consumer == "")
            if found or time.monotonic() >= deadline:
                return found
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), timeout=max(deadline - time.monotonic(), 0))

    async def ack(self, deliveries: Sequence[Delivery]) -> None:
        for delivery in deliveries:
            self._entries[delivery.partition].pop(delivery.delivery_id, None)

    async def reclaim(self, consumer: str, partitions: Sequence[int], *, min_idle_ms: int) -> list[Delivery]:
        cutoff = time.monotonic() - min_idle_ms / 1000
        return self._take(consumer, partitions, 1000, lambda e: e.consumer != "" and e.delivered_at <= cutoff)

    def pending(self) -> int:
        return sum(len(entries) for entries in self._entries.values())

    def _take(
        self, consumer: str, partitions: Sequence[int], limit: int, eligible: Callable[[_Entry], bool]
    ) -> list[Delivery]:
        taken: list[Delivery] = []
        now = time.monotonic()
        for partition in partitions:
            for entry in self._entries[partition].values():
                if len(taken) >= limit:
                    return taken
                if eligible(entry):
                    entry.consumer = consumer
                    entry.delivered_at = now
                    entry.attempts += 1
                    taken.append(Delivery(entry.delivery_id, partition, entry.command, entry.attempts))
        return taken
