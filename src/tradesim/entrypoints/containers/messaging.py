"""Price bus, event bus, order queue and leases: Redis when `TRADESIM_REDIS_URL` is set, else in-process."""

from __future__ import annotations

import os
import socket
from collections.abc import AsyncIterator

from dependency_injector import containers, providers
from redis.asyncio import Redis

from tradesim.adapters.memory.coordination import MemoryPartitionLeases
from tradesim.adapters.memory.limits import MemoryRateCounters
from tradesim.adapters.memory.messaging import MemoryEventBus, MemoryOrderQueue, MemoryPriceBus
from tradesim.adapters.memory.revocations import MemoryRevocationBus
from tradesim.adapters.redis.connection import redis_client
from tradesim.adapters.redis.event_bus import RedisEventBus
from tradesim.adapters.redis.health import RedisHealth
from tradesim.adapters.redis.leases import RedisPartitionLeases
from tradesim.adapters.redis.limits import RedisRateCounters
from tradesim.adapters.redis.order_queue import RedisOrderQueue
from tradesim.adapters.redis.revocations import RedisRevocationBus
from tradesim.entrypoints.containers.core import Started
from tradesim.entrypoints.settings import Settings
from tradesim.ports.messaging import PriceBus


def process_redis(settings: Settings) -> Redis | None:
    """The process's one client (a connection pool, connecting lazily) for everything it does on
    Redis: queue, events, leases, prices (pub/sub takes a connection of its own from the pool),
    replays, readiness and the login limits.

    Built synchronously so that every provider using it stays synchronous; `messaging_lifetime`,
    a resource, closes it at shutdown. Blocking stream reads wait up to a second, so the socket
    timeout must be longer than that. Its connections are named after the process (`CLIENT LIST`
    on the server tells which process holds which).
    """
    if not settings.redis_url:
        return None
    return redis_client(
        settings.redis_url,
        socket_connect_timeout=3,
        socket_timeout=15,
        retry_on_timeout=True,
        client_name=client_name(),
    )


def client_name() -> str:
    return f"tradesim-{socket.gethostname()}-{os.getpid()}"


async def messaging_lifetime(client: Redis | None, price_bus: PriceBus) -> AsyncIterator[None]:
    """On shutdown: the price bus sends what is pending and ends its subscriptions, then the client closes."""
    yield None
    close = getattr(price_bus, "aclose", None)
    if close is not None:
        await close()
    if client is not None:
        await client.aclose()


def backend_of(settings: Settings) -> str:
    return "redis" if settings.redis_url else "memory"


def build_price_bus(settings: Settings, client: Redis | None) -> PriceBus:
    if client is not None:
        from tradesim.adapters.redis.price_bus import RedisPriceBus

        # The client is the process's: `messaging_lifetime` closes it after the bus.
        return RedisPriceBus(client, namespace=settings.redis_namespace, owns_client=False)
    return MemoryPriceBus()


class Messaging(containers.DeclarativeContainer):
    core = providers.DependenciesContainer()
    backend = providers.Callable(backend_of, core.settings)
    redis = providers.Singleton(process_redis, core.settings)
    namespace = core.settings.provided.redis_namespace
    partitions = core.settings.provided.order_partitions

    price_bus = providers.Singleton(build_price_bus, settings=core.settings, client=redis)
    lifetime = Started(messaging_lifetime, redis, price_bus)
    event_bus = providers.Selector(
        backend,
        memory=providers.Singleton(MemoryEventBus),
        redis=providers.Singleton(RedisEventBus, client=redis, namespace=namespace),
    )
    order_queue = providers.Selector(
        backend,
        memory=providers.Singleton(MemoryOrderQueue, partitions=partitions),
        redis=providers.Singleton(RedisOrderQueue, client=redis, partitions=partitions, namespace=namespace),
    )
    health = providers.Selector(
        backend,
        memory=providers.Object(None),
        redis=providers.Singleton(RedisHealth, client=redis),
    )
    #: Login attempts and other rate limits, shared by every api process through Redis.
    rate_counters = providers.Selector(
        backend,
        memory=providers.Singleton(MemoryRateCounters),
        redis=providers.Singleton(RedisRateCounters, client=redis, namespace=namespace),
    )
    #: Revoked logins, told to every api process so that their sockets end.
    revocations = providers.Selector(
        backend,
        memory=providers.Singleton(MemoryRevocationBus),
        redis=providers.Singleton(RedisRevocationBus, client=redis, namespace=namespace),
    )
    leases = providers.Selector(
        backend,
        memory=providers.Singleton(MemoryPartitionLeases),
        redis=providers.Singleton(RedisPartitionLeases, client=redis, namespace=namespace),
    )
