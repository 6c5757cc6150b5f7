"""Messages between processes: prices, account events and the order queue."""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from typing import Protocol, TypeVar

import attrs

from tradesim.domain.commands import Command
from tradesim.domain.events import EngineEvent
from tradesim.domain.market import MarketEvent


def price_channel(symbol: str) -> str:
    """The pub/sub channel of a symbol's prices, as the blueprint names it."""
    return f"ticker.{symbol}"


def account_channel(account_id: str) -> str:
    return f"account.{account_id}"


def stable_partition(key: str, partitions: int) -> int:
    """The partition of a routing key (a symbol): the same in every process and every adapter."""
    return zlib.crc32(key.encode()) % partitions


def routing_key(command: Command) -> str:
    """Commands are partitioned by symbol; those without one (transfers) by account."""
    return str(getattr(command, "symbol", "") or getattr(command, "account_id", ""))


T_co = TypeVar("T_co", covariant=True)


class Subscription(Protocol[T_co]):
    """An open subscription: iterate it for messages; `aclose()` ends it."""

    def __aiter__(self) -> AsyncIterator[T_co]: ...

    async def aclose(self) -> None: ...


class PriceBus(Protocol):
    """Market data fan-out on `ticker.{SYMBOL}`: best effort, latest wins, nothing stored."""

    async def publish(self, event: MarketEvent) -> None: ...

    def subscribe(self, symbols: Iterable[str]) -> Subscription[MarketEvent]: ...


class AccountEventSubscription(Subscription[EngineEvent], Protocol):
    """Events of the accounts being watched; the set can change while iterating."""

    async def watch(self, account_id: str) -> None: ...

    async def unwatch(self, account_id: str) -> None: ...


#: Whether a subscriber shows an event of this account and kind: a subscription given one
#: delivers only those, and may leave the others undecoded (a fill brings four or five events,
#: and a socket following executions shows one of them).
EventFilter = Callable[[str, type[EngineEvent]], bool]


class EventBus(Protocol):
    """Engine events to whoever shows them (the api's sockets), on `account.{ACCOUNT_ID}`."""

    async def publish(self, events: Sequence[EngineEvent]) -> None: ...

    def subscribe(self, wanted: EventFilter | None = None) -> AccountEventSubscription:
        """Events of the watched accounts; with `wanted`, only those it accepts."""
        ...


@attrs.frozen(slots=True)
class Delivery:
    """A command handed to a consumer; it stays pending until acknowledged."""

    delivery_id: str
    partition: int
    command: Command
    attempts: int = 1


class OrderQueue(Protocol):
    """Commands for the engines, partitioned by symbol; at-least-once with acknowledgement.

    A delivery not acknowledged within `min_idle_ms` (its consumer died) can be reclaimed by
    another consumer. Consumers process idempotently (by order id), so redelivery is safe.
    """

    partitions: int

    def partition_of(self, symbol: str) -> int: ...

    async def enqueue(self, command: Command) -> str:
        """Returns the delivery id."""
        ...

    async def enqueue_many(self, commands: Sequence[Command]) -> list[str]:
        """`enqueue` each, in order, in one round trip where the adapter can; their delivery ids.
        On an error some may have been queued already (consumers are idempotent)."""
        ...

    async def receive(
        self,
        consumer: str,
        partitions: Sequence[int],
        *,
        max_count: int = 100,
        block_ms: int = 1000,
        ack: Sequence[Delivery] = (),
    ) -> list[Delivery]:
        """Up to `max_count` entries nobody took yet, waiting up to `block_ms` for a first one
        (0: answer at once with what is there). `ack` is acknowledged first, in the same round
        trip where the adapter can: a consumer acknowledges a batch as it asks for the next. When
        this raises, `ack` may or may not have been acknowledged."""
        ...

    async def ack(self, deliveries: Sequence[Delivery]) -> None: ...

    async def reclaim(self, consumer: str, partitions: Sequence[int], *, min_idle_ms: int) -> list[Delivery]: ...
