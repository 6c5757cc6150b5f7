"""A small world of in-memory adapters for the use cases."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import attrs
import pytest

from tradesim.adapters.memory.clock import FixedClock
from tradesim.adapters.memory.messaging import MemoryEventBus, MemoryOrderQueue
from tradesim.adapters.memory.tables import MemoryDatabase
from tradesim.adapters.memory.unit_of_work import MemoryUnitOfWork
from tradesim.application.accounts import AccountService
from tradesim.application.engine_service import EngineService
from tradesim.application.orders import OrderService
from tradesim.domain import MatchingEngine, default_catalog

T0 = 1_700_000_000_000


@attrs.define
class World:
    database: MemoryDatabase
    clock: FixedClock
    queue: MemoryOrderQueue
    events: MemoryEventBus
    accounts: AccountService
    orders: OrderService
    engine_service: EngineService

    def uow(self) -> MemoryUnitOfWork:
        return MemoryUnitOfWork(self.database)


def _ids(prefix: str) -> Callable[[], str]:
    counter = itertools.count(1)
    return lambda: f"{prefix}-{next(counter)}"


@pytest.fixture
def world() -> World:
    database = MemoryDatabase()
    clock = FixedClock(T0)
    queue = MemoryOrderQueue(partitions=2)
    events = MemoryEventBus()
    catalog = default_catalog()

    def uow() -> MemoryUnitOfWork:
        return MemoryUnitOfWork(database)

    engine = MatchingEngine(catalog, clock.now_ms)
    return World(
        database=database,
        clock=clock,
        queue=queue,
        events=events,
        accounts=AccountService(uow, clock, _ids("acc")),
        orders=OrderService(uow, queue, catalog, clock, _ids("ord")),
        engine_service=EngineService(engine, uow, events),
    )
