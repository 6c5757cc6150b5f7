"""Price bus, event bus, order queue and leases: Redis when `TRADESIM_REDIS_URL` is set, else in-process."""

from __future__ import annotations

from collections.abc import AsyncIterator

from dependency_injector import containers, providers
from redis.asyncio import Redis

from tradesim.adapters.memory.coordination import MemoryPartitionLeases
from tradesim.adapters.memory.messaging import MemoryEventBus, MemoryOrderQueue, MemoryPriceBus
from tradesim.adapters.redis.event_bus import RedisEventBus
from tradesim.adapters.redis.leases import RedisPartitionLeases
from tradesim.adapters.redis.order_queue import RedisOrderQueue
from tradesim.entrypoints.settings import Settings


async def open_redis(settings: Settings) -> AsyncIterator[Redis | None]:
    """One client (a connection pool) per process; closed at shutdown."""
    if not settings.redis_url:
        yield None
        return
    # Blocking stream reads wait up to a second; the socket timeout must be longer.
    client = Redis.from_url(
        settings.redis_url, socket_connect_timeout=3, socket_timeout=15, health_check_interval=15, retry_on_timeout=True
    )
    try:
        yield client
    finally:
        await client.aclose()


def backend_of(settings: Settings) -> str:
    return "redis" if settings.redis_url else "memory"


class Messaging(containers.DeclarativeContainer):
    core = providers.DependenciesContainer()
    backend = providers.Callable(backend_of, core.settings)
    redis = providers.Resource(open_redis, core.settings)
    namespace = core.settings.provided.redis_namespace
    partitions = core.settings.provided.order_partitions

    price_bus = providers.Singleton(MemoryPriceBus)
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
    leases = providers.Selector(
        backend,
        memory=providers.Singleton(MemoryPartitionLeases),
        redis=providers.Singleton(RedisPartitionLeases, client=redis, namespace=namespace),
    )
