"""Adapters under contract. Each port's suite runs against every adapter listed here.

To put a new adapter under contract, add a branch to the matching fixture (and its name to
the list): the suites themselves do not change.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from tests.integration.databases import empty_tables, migrated_postgres_database, migrated_sqlite_file, sqlite_url
from tradesim.adapters.memory.messaging import MemoryEventBus, MemoryOrderQueue, MemoryPriceBus
from tradesim.adapters.memory.storage import MemoryBlobStore, MemoryCandleStore
from tradesim.adapters.memory.tables import MemoryDatabase
from tradesim.adapters.memory.unit_of_work import MemoryUnitOfWork
from tradesim.adapters.sqlalchemy.database import Database
from tradesim.adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from tradesim.ports.messaging import EventBus, OrderQueue, PriceBus
from tradesim.ports.storage import BlobStore, CandleStore
from tradesim.ports.unit_of_work import UnitOfWork

UOW_BACKENDS = ["memory", "sqlite", "postgres"]
BUS_BACKENDS = ["memory"]
QUEUE_BACKENDS = ["memory"]
BLOB_BACKENDS = ["memory"]
CANDLE_STORE_BACKENDS = ["memory"]


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


@pytest.fixture
async def uow_factory(uow_backend: tuple[str, str]) -> AsyncIterator[Callable[[], UnitOfWork]]:
    backend, url = uow_backend
    if backend == "memory":
        memory = MemoryDatabase()
        yield lambda: MemoryUnitOfWork(memory)
        return
    database = Database(url)
    try:
        if backend == "postgres":
            await empty_tables(database)
        yield lambda: SqlAlchemyUnitOfWork(database)
    finally:
        await database.dispose()


@pytest.fixture(params=BUS_BACKENDS)
async def price_bus(request: pytest.FixtureRequest) -> AsyncIterator[PriceBus]:
    if request.param == "memory":
        yield MemoryPriceBus()
    else:  # pragma: no cover
        raise NotImplementedError(request.param)


@pytest.fixture(params=BUS_BACKENDS)
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
