"""The composition root. Built by an entrypoint from `Settings`; nothing is built at import time."""

from __future__ import annotations

from dependency_injector import containers, providers

from tradesim.application.accounts import AccountService
from tradesim.application.auth import AuthService
from tradesim.application.engine_service import EngineService
from tradesim.application.journal import JournalService
from tradesim.application.market import CandleQueries
from tradesim.application.orders import OrderService
from tradesim.application.portfolio import PortfolioQueries
from tradesim.domain.engine import MatchingEngine
from tradesim.entrypoints.containers.api import Api
from tradesim.entrypoints.containers.core import Core
from tradesim.entrypoints.containers.messaging import Messaging
from tradesim.entrypoints.containers.persistence import Persistence
from tradesim.entrypoints.containers.security import Security
from tradesim.entrypoints.containers.storage import Storage
from tradesim.entrypoints.settings import Settings


class Container(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    core = providers.Container(Core, settings=settings)
    persistence = providers.Container(Persistence, core=core)
    messaging = providers.Container(Messaging, core=core)
    storage = providers.Container(Storage, core=core)

    accounts = providers.Factory(
        AccountService, uow_factory=persistence.unit_of_work.provider, clock=core.clock, ids=core.ids
    )
    orders = providers.Factory(
        OrderService,
        uow_factory=persistence.unit_of_work.provider,
        queue=messaging.order_queue,
        catalog=core.catalog,
        clock=core.clock,
        ids=core.ids,
    )
    security = providers.Container(Security, core=core)
    auth = providers.Singleton(
        AuthService,
        uow_factory=persistence.unit_of_work.provider,
        hasher=security.password_hasher,
        tokens=security.token_codec,
        clock=core.clock,
        ids=core.ids,
    )
    portfolio = providers.Factory(PortfolioQueries, uow_factory=persistence.unit_of_work.provider, catalog=core.catalog)
    candles = providers.Factory(CandleQueries, uow_factory=persistence.unit_of_work.provider, catalog=core.catalog)
    journal = providers.Factory(
        JournalService,
        uow_factory=persistence.unit_of_work.provider,
        blobs=storage.blob_store,
        clock=core.clock,
        ids=core.ids,
    )
    #: Readiness: every dependency the api needs answering (Redis joins when its adapters land).
    health_checks = providers.List(persistence.health)
    api = providers.Container(Api, core=core, event_bus=messaging.event_bus, portfolio=portfolio)

    engine = providers.Singleton(MatchingEngine, catalog=core.catalog, clock=core.clock.provided.now_ms)
    engine_service = providers.Singleton(
        EngineService, engine=engine, uow_factory=persistence.unit_of_work.provider, events=messaging.event_bus
    )


def build_container(settings: Settings) -> Container:
    return Container(settings=settings)
