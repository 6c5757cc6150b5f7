"""Price bus, event bus, order queue and leases: Redis when `TRADESIM_REDIS_URL` is set, else in-process."""

from __future__ import annotations

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
from tradesim.entrypoints.settings import Settings
from tradesim.ports.messaging import PriceBus


def redis_for_streams(settings: Settings) -> Redis | None:
    """The process's client (a connection pool, connecting lazily) for queue, events and leases.

    Built synchronously so that every provider using it stays synchronous; `closing_redis`, a
    resource, closes it at shutdown. Blocking stream reads wait up to a second, so the socket
    timeout must be longer than that.
    """
    if not settings.redis_url:
        return None
    return redis_client(settings.redis_url, socket_connect_timeout=3, socket_timeout=15, retry_on_timeout=True)


async def closing_redis(client: Redis | None) -> AsyncIterator[None]:
    yield None
    if client is not None:
        await client.aclose()


def backend_of(settings: Settings) -> str:
    return "redis" if settings.redis_url else "memory"


def build_price_bus(settings: Settings) -> PriceBus:
    if settings.redis_url:
        # Imported here: the redis driver is an extra, and the in-process bus must work without it.
        from tradesim.adapters.redis.connection import redis_client
        from tradesim.adapters.redis.price_bus import RedisPriceBus

        return RedisPriceBus(redis_client(settings.redis_url), namespace=settings.redis_namespace)
    return MemoryPriceBus()


class Messaging(containers.DeclarativeContainer):
    core = providers.DependenciesContainer()
    backend = providers.Callable(backend_of, core.settings)
    redis = providers.Singleton(redis_for_streams, core.settings)
    redis_shutdown = providers.Resource(closing_redis, redis)
    namespace = core.settings.provided.redis_namespace
    partitions = core.settings.provided.order_partitions

    price_bus = providers.Singleton(build_price_bus, settings=core.settings)
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
    #: Readiness of Redis on a small client of its own (built synchronously, unlike `redis`,
    #: so that the api's list of checks stays a plain list).
    health = providers.Selector(
        backend,
        memory=providers.Object(None),
        redis=providers.Singleton(
            RedisHealth, client=providers.Singleton(redis_client, core.settings.provided.redis_url)
        ),
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
