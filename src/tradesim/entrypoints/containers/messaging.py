"""Price bus, event bus and order queue. In-process until the Redis adapters land (issues 5, 6)."""

from __future__ import annotations

from dependency_injector import containers, providers

from tradesim.adapters.memory.messaging import MemoryEventBus, MemoryOrderQueue, MemoryPriceBus


class Messaging(containers.DeclarativeContainer):
    core = providers.DependenciesContainer()
    price_bus = providers.Singleton(MemoryPriceBus)
    event_bus = providers.Singleton(MemoryEventBus)
    order_queue = providers.Singleton(MemoryOrderQueue, partitions=1)
