"""Adapters under contract. Each port's suite runs against every adapter listed here.

To put a new adapter under contract, add a branch to the matching fixture (and its name to
the list): the suites themselves do not change.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.support.moto_s3 import MotoS3
from tradesim.adapters.localfs.stores import LocalBlobStore, local_candle_store
from tradesim.adapters.memory.coordination import MemoryPartitionLeases
from tradesim.adapters.memory.messaging import MemoryEventBus, MemoryOrderQueue, MemoryPriceBus
from tradesim.adapters.memory.replays import MemoryReplayBarBus, MemoryReplayInbox
from tradesim.adapters.memory.storage import MemoryBlobStore, MemoryCandleStore
from tradesim.adapters.memory.tables import MemoryDatabase
from tradesim.adapters.memory.unit_of_work import MemoryUnitOfWork
from tradesim.adapters.s3.stores import S3BlobStore, s3_candle_store
from tradesim.ports.coordination import PartitionLeases
from tradesim.ports.messaging import EventBus, OrderQueue, PriceBus
from tradesim.ports.replay import ReplayBarBus, ReplayInbox
from tradesim.ports.storage import BlobStore, CandleStore
from tradesim.ports.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from redis.asyncio import Redis

UOW_BACKENDS = ["memory"]
PRICE_BUS_BACKENDS = ["memory", "redis"]
EVENT_BUS_BACKENDS = ["memory", "redis"]
QUEUE_BACKENDS = ["memory", "redis"]
LEASE_BACKENDS = ["memory", "redis"]
REPLAY_MESSAGING_BACKENDS = ["memory", "redis"]
BLOB_BACKENDS = ["memory", "localfs", "s3"]
CANDLE_STORE_BACKENDS = ["memory", "localfs", "s3"]


@pytest.fixture(params=UOW_BACKENDS)
async def uow_factory(request: pytest.FixtureRequest) -> AsyncIterator[Callable[[], UnitOfWork]]:
    if request.param == "memory":
        database = MemoryDatabase()
        yield lambda: MemoryUnitOfWork(database)
    else:  # pragma: no cover - a backend listed without a builder
        raise NotImplementedError(request.param)


@pytest.fixture(params=PRICE_BUS_BACKENDS)
async def price_bus(request: pytest.FixtureRequest) -> AsyncIterator[PriceBus]:
    if request.param == "memory":
        yield MemoryPriceBus()
    elif request.param == "redis":
        from tradesim.adapters.redis.connection import redis_client
        from tradesim.adapters.redis.price_bus import RedisPriceBus

        bus = RedisPriceBus(
            redis_client(request.getfixturevalue("redis_url")), namespace=request.getfixturevalue("redis_namespace")
        )
        yield bus
        await bus.aclose()
    else:  # pragma: no cover
        raise NotImplementedError(request.param)


@pytest.fixture(params=EVENT_BUS_BACKENDS)
async def event_bus(request: pytest.FixtureRequest) -> AsyncIterator[EventBus]:
    if request.param == "memory":
        yield MemoryEventBus()
    elif request.param == "redis":
        from tradesim.adapters.redis.event_bus import RedisEventBus

        async with _redis_client(request) as (client, namespace):
            yield RedisEventBus(client, namespace)
    else:  # pragma: no cover
        raise NotImplementedError(request.param)


@pytest.fixture(params=QUEUE_BACKENDS)
async def order_queue(request: pytest.FixtureRequest) -> AsyncIterator[OrderQueue]:
    if request.param == "memory":
        yield MemoryOrderQueue(partitions=4)
    elif request.param == "redis":
        from tradesim.adapters.redis.order_queue import RedisOrderQueue

        async with _redis_client(request) as (client, namespace):
            yield RedisOrderQueue(client, partitions=4, namespace=namespace)
    else:  # pragma: no cover
        raise NotImplementedError(request.param)


@pytest.fixture(params=LEASE_BACKENDS)
async def leases(request: pytest.FixtureRequest) -> AsyncIterator[PartitionLeases]:
    if request.param == "memory":
        yield MemoryPartitionLeases()
    elif request.param == "redis":
        from tradesim.adapters.redis.leases import RedisPartitionLeases

        async with _redis_client(request) as (client, namespace):
            yield RedisPartitionLeases(client, namespace)
    else:  # pragma: no cover
        raise NotImplementedError(request.param)


@pytest.fixture(params=REPLAY_MESSAGING_BACKENDS)
async def replay_bar_bus(request: pytest.FixtureRequest) -> AsyncIterator[ReplayBarBus]:
    if request.param == "memory":
        yield MemoryReplayBarBus()
    elif request.param == "redis":
        from tradesim.adapters.redis.replays import RedisReplayBarBus

        async with _redis_client(request) as (client, namespace):
            yield RedisReplayBarBus(client, namespace)
    else:  # pragma: no cover
        raise NotImplementedError(request.param)


@pytest.fixture(params=REPLAY_MESSAGING_BACKENDS)
async def replay_inbox(request: pytest.FixtureRequest) -> AsyncIterator[ReplayInbox]:
    if request.param == "memory":
        yield MemoryReplayInbox()
    elif request.param == "redis":
        from tradesim.adapters.redis.replays import RedisReplayInbox

        async with _redis_client(request) as (client, namespace):
            yield RedisReplayInbox(client, namespace)
    else:  # pragma: no cover
        raise NotImplementedError(request.param)


@contextlib.asynccontextmanager
async def _redis_client(request: pytest.FixtureRequest) -> AsyncIterator[tuple[Redis, str]]:
    """A client on the test Redis and a namespace of its own; its keys are deleted afterwards."""
    from redis.asyncio import Redis

    url = request.getfixturevalue("redis_url")
    namespace = request.getfixturevalue("redis_namespace")
    client = Redis.from_url(url)
    try:
        yield client, namespace
    finally:
        keys = [key async for key in client.scan_iter(match=f"{namespace}*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


@pytest.fixture(params=BLOB_BACKENDS)
async def blob_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[BlobStore]:
    if request.param == "memory":
        yield MemoryBlobStore()
    elif request.param == "localfs":
        yield LocalBlobStore(tmp_path / "objects")
    elif request.param == "s3":
        moto: MotoS3 = request.getfixturevalue("moto_s3")
        yield S3BlobStore(moto.fresh_bucket())
    else:  # pragma: no cover
        raise NotImplementedError(request.param)


@pytest.fixture(params=CANDLE_STORE_BACKENDS)
async def candle_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[CandleStore]:
    if request.param == "memory":
        yield MemoryCandleStore()
    elif request.param == "localfs":
        yield local_candle_store(tmp_path / "objects", price_scales={"BTCUSDT": 2})
    elif request.param == "s3":
        moto: MotoS3 = request.getfixturevalue("moto_s3")
        yield s3_candle_store(moto.fresh_bucket(), price_scales={"BTCUSDT": 2})
    else:  # pragma: no cover
        raise NotImplementedError(request.param)
