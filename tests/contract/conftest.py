"""Adapters under contract. Each port's suite runs against every adapter listed here.

To put a new adapter under contract, add a branch to the matching fixture (and its name to
the list): the suites themselves do not change.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.integration.databases import empty_tables, migrated_postgres_database, migrated_sqlite_file, sqlite_url
from tests.support.moto_s3 import MotoS3
from tradesim.adapters.localfs.stores import LocalBlobStore, local_candle_store
from tradesim.adapters.memory.coordination import MemoryPartitionLeases
from tradesim.adapters.memory.limits import MemoryRateCounters
from tradesim.adapters.memory.messaging import MemoryEventBus, MemoryOrderQueue, MemoryPriceBus
from tradesim.adapters.memory.replays import MemoryReplayBarBus, MemoryReplayInbox
from tradesim.adapters.memory.revocations import MemoryRevocationBus
from tradesim.adapters.memory.storage import MemoryBlobStore, MemoryCandleStore
from tradesim.adapters.memory.strategy_runs import MemoryStrategyCatalogueBoard, MemoryStrategyRunUpdates
from tradesim.adapters.memory.tables import MemoryDatabase
from tradesim.adapters.memory.unit_of_work import MemoryUnitOfWork
from tradesim.adapters.s3.stores import S3BlobStore, s3_candle_store
from tradesim.adapters.sqlalchemy.database import Database
from tradesim.adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from tradesim.ports.coordination import PartitionLeases
from tradesim.ports.limits import RateCounters
from tradesim.ports.messaging import EventBus, OrderQueue, PriceBus
from tradesim.ports.replay import ReplayBarBus, ReplayInbox
from tradesim.ports.security import RevocationBus
from tradesim.ports.storage import BlobStore, CandleStore
from tradesim.ports.strategy_runs import StrategyCatalogueBoard, StrategyRunUpdates
from tradesim.ports.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from redis.asyncio import Redis

UOW_BACKENDS = ["memory", "sqlite", "postgres"]
PRICE_BUS_BACKENDS = ["memory", "redis"]
EVENT_BUS_BACKENDS = ["memory", "redis"]
QUEUE_BACKENDS = ["memory", "redis"]
LEASE_BACKENDS = ["memory", "redis"]
RATE_COUNTER_BACKENDS = ["memory", "redis"]
REPLAY_MESSAGING_BACKENDS = ["memory", "redis"]
STRATEGY_RUN_MESSAGING_BACKENDS = ["memory", "redis"]
BLOB_BACKENDS = ["memory", "localfs", "s3"]
CANDLE_STORE_BACKENDS = ["memory", "localfs", "s3"]


#: Backends that talk to a real server carry the `integration` mark.
NEEDS_SERVER = {"postgres"}


def _params(backends: list[str]) -> list[object]:
    return [pytest.param(b, marks=pytest.mark.integration) if b in NEEDS_SERVER else b for b in backends]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head once per session; each test works on a copy."""
    return migrated_sqlite_file(tmp_path_factory.mktemp("sqlite-template") / "template.sqlite3")


@pytest.fixture(scope="session")
def postgres_contract_url() -> Iterator[str]:
    """A PostgreSQL database of this session, migrated to head; tests empty it before use."""
    with migrated_postgres_database() as url:
        yield url


@pytest.fixture(params=_params(UOW_BACKENDS))
def uow_backend(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str]:
    """(backend, database URL). Synchronous, because building a session database runs its own
    event loop, which cannot happen inside an async fixture."""
    if request.param == "memory":
        return "memory", ""
    if request.param == "sqlite":
        path = tmp_path / "contract.sqlite3"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return "sqlite", sqlite_url(path)
    if request.param == "postgres":
        return "postgres", request.getfixturevalue("postgres_contract_url")
    raise NotImplementedError(request.param)  # pragma: no cover - a backend listed without a builder


@contextlib.asynccontextmanager
async def _factory(uow_backend: tuple[str, str], **options: bool) -> AsyncIterator[Callable[[], UnitOfWork]]:
    """Units of work on `uow_backend`, made with the SQL unit of work's `options`."""
    backend, url = uow_backend
    if backend == "memory":
        memory = MemoryDatabase()
        yield lambda: MemoryUnitOfWork(memory)
        return
    database = Database(url)
    try:
        if backend == "postgres":
            await empty_tables(database)
        yield lambda: SqlAlchemyUnitOfWork(database, **options)
    finally:
        await database.dispose()


@pytest.fixture
async def uow_factory(uow_backend: tuple[str, str]) -> AsyncIterator[Callable[[], UnitOfWork]]:
    async with _factory(uow_backend) as factory:
        yield factory


@pytest.fixture
async def single_statement_uow_factory(uow_backend: tuple[str, str]) -> AsyncIterator[Callable[[], UnitOfWork]]:
    """What the composition root's `single_statement_unit_of_work` gives for each backend."""
    async with _factory(uow_backend, single_statement=True) as factory:
        yield factory


@pytest.fixture
async def outcome_uow_factory(uow_backend: tuple[str, str]) -> AsyncIterator[Callable[[], UnitOfWork]]:
    """What the composition root's `outcome_unit_of_work` gives for each backend: single-statement
    on PostgreSQL, where an outcome is one statement; transactional elsewhere."""
    async with _factory(uow_backend, single_statement=uow_backend[0] == "postgres") as factory:
        yield factory


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


@pytest.fixture(params=RATE_COUNTER_BACKENDS)
async def rate_counters(request: pytest.FixtureRequest) -> AsyncIterator[RateCounters]:
    if request.param == "memory":
        yield MemoryRateCounters()
    elif request.param == "redis":
        from tradesim.adapters.redis.limits import RedisRateCounters

        async with _redis_client(request) as (client, namespace):
            yield RedisRateCounters(client, namespace)
    else:  # pragma: no cover
        raise NotImplementedError(request.param)


@pytest.fixture(params=RATE_COUNTER_BACKENDS)
async def revocation_bus(request: pytest.FixtureRequest) -> AsyncIterator[RevocationBus]:
    if request.param == "memory":
        yield MemoryRevocationBus()
    elif request.param == "redis":
        from tradesim.adapters.redis.revocations import RedisRevocationBus

        async with _redis_client(request) as (client, namespace):
            yield RedisRevocationBus(client, namespace)
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
    """A client on the test Redis and a namespace of its own (whose keys the `redis_namespace`
    fixture deletes afterwards)."""
    from redis.asyncio import Redis

    url = request.getfixturevalue("redis_url")
    namespace = request.getfixturevalue("redis_namespace")
    client = Redis.from_url(url)
    try:
        yield client, namespace
    finally:
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


@pytest.fixture(params=STRATEGY_RUN_MESSAGING_BACKENDS)
async def strategy_catalogue_board(request: pytest.FixtureRequest) -> AsyncIterator[StrategyCatalogueBoard]:
    if request.param == "memory":
        yield MemoryStrategyCatalogueBoard()
    elif request.param == "redis":
        from tradesim.adapters.redis.strategy_runs import RedisStrategyCatalogueBoard

        async with _redis_client(request) as (client, namespace):
            yield RedisStrategyCatalogueBoard(client, namespace)
    else:  # pragma: no cover
        raise NotImplementedError(request.param)


@pytest.fixture(params=STRATEGY_RUN_MESSAGING_BACKENDS)
async def strategy_run_updates(request: pytest.FixtureRequest) -> AsyncIterator[StrategyRunUpdates]:
    if request.param == "memory":
        yield MemoryStrategyRunUpdates()
    elif request.param == "redis":
        from tradesim.adapters.redis.strategy_runs import RedisStrategyRunUpdates

        async with _redis_client(request) as (client, namespace):
            yield RedisStrategyRunUpdates(client, namespace)
    else:  # pragma: no cover
        raise NotImplementedError(request.param)
