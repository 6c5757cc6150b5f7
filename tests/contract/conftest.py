"""Adapters under contract. Each port's suite runs against every adapter listed here.

To put a new adapter under contract, add a branch to the matching fixture (and its name to
the list): the suites themselves do not change.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator

import pytest

from tests import services
from tradesim.adapters.memory.messaging import MemoryEventBus, MemoryOrderQueue, MemoryPriceBus
from tradesim.adapters.memory.storage import MemoryBlobStore, MemoryCandleStore
from tradesim.adapters.memory.tables import MemoryDatabase
from tradesim.adapters.memory.unit_of_work import MemoryUnitOfWork
from tradesim.ports.messaging import EventBus, OrderQueue, PriceBus
from tradesim.ports.storage import BlobStore, CandleStore
from tradesim.ports.unit_of_work import UnitOfWork

UOW_BACKENDS = ["memory"]
# The price bus has a Redis adapter (issue 6); the event bus gets its own later.
PRICE_BUS_BACKENDS = ["memory", "redis"]
EVENT_BUS_BACKENDS = ["memory"]
QUEUE_BACKENDS = ["memory"]
BLOB_BACKENDS = ["memory"]
CANDLE_STORE_BACKENDS = ["memory"]


@pytest.fixture(params=UOW_BACKENDS)
async def uow_factory(request: pytest.FixtureRequest) -> AsyncIterator[Callable[[], UnitOfWork]]:
    if request.param == "memory":
        database = MemoryDatabase()
        yield lambda: MemoryUnitOfWork(database)
    else:  # pragma: no cover - a backend listed without a builder
        raise NotImplementedError(request.param)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """The Redis server of this session (skips, or fails in CI, when there is none)."""
    with services.redis_server_url() as url:
        yield url


@pytest.fixture(params=PRICE_BUS_BACKENDS)
async def price_bus(request: pytest.FixtureRequest) -> AsyncIterator[PriceBus]:
    if request.param == "memory":
        yield MemoryPriceBus()
    elif request.param == "redis":
        from tradesim.adapters.redis.connection import redis_client
        from tradesim.adapters.redis.price_bus import RedisPriceBus

        bus = RedisPriceBus(
            redis_client(request.getfixturevalue("redis_url")), namespace=services.unique_namespace("contract")
        )
        yield bus
        await bus.aclose()
    else:  # pragma: no cover
        raise NotImplementedError(request.param)


@pytest.fixture(params=EVENT_BUS_BACKENDS)
async def event_bus(request: pytest.FixtureRequest) -> AsyncIterator[EventBus]:
    if request.param == "memory":
        yield MemoryEventBus()
    else:  # pragma: no cover
        raise NotImplementedError(request.param)


@pytest.fixture(params=QUEUE_BACKENDS)
async def order_queue(request: pytest.FixtureRequest) -> AsyncIterator[OrderQueue]:
    if request.param == "memory":
        yield MemoryOrderQueue(partitions=4)
    else:  # pragma: no cover
        raise NotImplementedError(request.param)


@pytest.fixture(params=BLOB_BACKENDS)
async def blob_store(request: pytest.FixtureRequest) -> AsyncIterator[BlobStore]:
    if request.param == "memory":
        yield MemoryBlobStore()
    else:  # pragma: no cover
        raise NotImplementedError(request.param)


@pytest.fixture(params=CANDLE_STORE_BACKENDS)
async def candle_store(request: pytest.FixtureRequest) -> AsyncIterator[CandleStore]:
    if request.param == "memory":
        yield MemoryCandleStore()
    else:  # pragma: no cover
        raise NotImplementedError(request.param)
