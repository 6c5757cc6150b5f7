"""Price bus, event bus and order queue. The price bus is Redis when TRADESIM_REDIS_URL is set (issue 6);
the event bus and the order queue stay in-process until their Redis adapters land (issue 5)."""

from __future__ import annotations

from dependency_injector import containers, providers

from tradesim.adapters.memory.messaging import MemoryEventBus, MemoryOrderQueue, MemoryPriceBus
from tradesim.entrypoints.settings import Settings
from tradesim.ports.messaging import PriceBus


def build_price_bus(settings: Settings) -> PriceBus:
    if settings.redis_url:
        # Imported here: the redis driver is an extra, and the in-process bus must work without it.
        from tradesim.adapters.redis.connection import redis_client
        from tradesim.adapters.redis.price_bus import RedisPriceBus

        return RedisPriceBus(redis_client(settings.redis_url), namespace=settings.redis_namespace)
    return MemoryPriceBus()


class Messaging(containers.DeclarativeContainer):
    core = providers.DependenciesContainer()
    price_bus = providers.Singleton(build_price_bus, settings=core.settings)
    event_bus = providers.Singleton(MemoryEventBus)
    order_queue = providers.Singleton(MemoryOrderQueue, partitions=1)
