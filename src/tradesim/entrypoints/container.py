"""The composition root. Built by an entrypoint from `Settings` and its role's `ContainerOptions`;
nothing is built at import time.

A new resource (a client, a pool): a `providers.Resource` over an async generator that yields it
(or yields None and closes it) in the sub-container it belongs to. `runner.run_role` starts every
resource before the command runs and shuts them all down when it ends, whatever the command.
"""

from __future__ import annotations

import inspect
import os
import socket
import uuid
from collections.abc import Awaitable
from typing import TypeVar

from dependency_injector import containers, providers

from tradesim.application.accounts import AccountService
from tradesim.application.api_keys import ApiKeyService
from tradesim.application.auth import AuthService
from tradesim.application.deployments import DeploymentService
from tradesim.application.directory import AccountDirectory
from tradesim.application.engine_service import EngineService
from tradesim.application.journal import JournalService
from tradesim.application.key_cache import KeyCache
from tradesim.application.limits import LoginPolicy, LoginThrottle, Throttle
from tradesim.application.market import CandleQueries
from tradesim.application.orders import OrderService
from tradesim.application.portfolio import PortfolioQueries
from tradesim.application.replay.routing import ReplayCommandRouter
from tradesim.application.streaming import CandleWriter, MarketStreamer
from tradesim.application.worker import Worker, WorkerConfig
from tradesim.domain.engine import MatchingEngine
from tradesim.entrypoints.containers.api import Api
from tradesim.entrypoints.containers.core import Core
from tradesim.entrypoints.containers.history import History
from tradesim.entrypoints.containers.market_data import MarketData
from tradesim.entrypoints.containers.messaging import Messaging
from tradesim.entrypoints.containers.persistence import Persistence
from tradesim.entrypoints.containers.replay import Replay
from tradesim.entrypoints.containers.security import Security
from tradesim.entrypoints.containers.storage import Storage
from tradesim.entrypoints.containers.strategies import Strategies
from tradesim.entrypoints.roles import ContainerOptions
from tradesim.entrypoints.settings import Settings

T = TypeVar("T")


def present(*items: object) -> list[object]:
    """The items that exist (a dependency that is not configured provides None)."""
    return [item for item in items if item is not None]


def worker_identity() -> str:
    """Unique per process, readable in logs and in Redis (host, pid, random suffix)."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


class Container(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    options = providers.Dependency(instance_of=ContainerOptions, default=ContainerOptions())
    core = providers.Container(Core, settings=settings, options=options)
    persistence = providers.Container(Persistence, core=core)
    messaging = providers.Container(Messaging, core=core)
    storage = providers.Container(Storage, core=core)
    market_data = providers.Container(MarketData, core=core, persistence=persistence, storage=storage)
    history = providers.Container(History, core=core, persistence=persistence, storage=storage)
    replay = providers.Container(Replay, core=core, persistence=persistence, messaging=messaging, storage=storage)
    strategies = providers.Container(
        Strategies, core=core, persistence=persistence, messaging=messaging, storage=storage
    )

    accounts = providers.Factory(
        AccountService, uow_factory=persistence.unit_of_work.provider, clock=core.clock, ids=core.ids
    )
    #: One per process: who owns each account, its kind and its replay, for every use case.
    directory = providers.Singleton(AccountDirectory, uow_factory=persistence.single_statement_unit_of_work.provider)
    security = providers.Container(Security, core=core)
    auth = providers.Singleton(
        AuthService,
        uow_factory=persistence.unit_of_work.provider,
        hasher=security.password_hasher,
        tokens=security.token_codec,
        clock=core.clock,
        ids=core.ids,
        revocations=messaging.revocations,
    )
    #: Live keys read lately, one cache per process (`application/key_cache.py`), which follows
    #: the revocation bus while the api serves.
    api_key_cache = providers.Singleton(KeyCache, clock=core.clock)
    #: A /v5 request resolves its key from the cache, else with one read.
    api_keys = providers.Factory(
        ApiKeyService,
        cache=api_key_cache,
        uow_factory=persistence.unit_of_work.provider,
        single_statement_uow_factory=persistence.api_key_unit_of_work.provider,
        box=security.secret_box,
        clock=core.clock,
        ids=core.ids,
        quota=core.quotas.provided.api_keys,
        revocations=messaging.revocations,
    )
    throttle = providers.Singleton(Throttle, counters=messaging.rate_counters, clock=core.clock)
    login_throttle = providers.Singleton(
        LoginThrottle,
        throttle=throttle,
        policy=providers.Factory(
            LoginPolicy,
            per_address=settings.provided.login_attempts_per_address,
            per_email_address=settings.provided.login_attempts_per_email_address,
            per_email=settings.provided.login_attempts_per_email,
        ),
    )
    portfolio = providers.Factory(
        PortfolioQueries,
        uow_factory=persistence.unit_of_work.provider,
        catalog=core.catalog,
        replays=replay.prices,
        single_statement_uow_factory=persistence.single_statement_unit_of_work.provider,
    )
    deployments = providers.Factory(
        DeploymentService,
        uow_factory=persistence.unit_of_work.provider,
        directory=directory,
        board=strategies.board,
        catalog=core.catalog,
        clock=core.clock,
        ids=core.ids,
    )
    candles = providers.Factory(CandleQueries, uow_factory=persistence.unit_of_work.provider, catalog=core.catalog)
    journal = providers.Factory(
        JournalService,
        uow_factory=persistence.unit_of_work.provider,
        blobs=storage.blob_store,
        clock=core.clock,
        ids=core.ids,
    )
    #: Readiness: every dependency the api needs answering.
    health_checks = providers.Callable(present, persistence.health, messaging.health)
    api = providers.Container(
        Api,
        core=core,
        persistence=persistence,
        replay=replay,
        strategies=strategies,
        event_bus=messaging.event_bus,
        portfolio=portfolio,
        revocations=messaging.revocations,
        rate_counters=messaging.rate_counters,
        directory=directory,
    )
    orders = providers.Singleton(
        OrderService,
        uow_factory=persistence.unit_of_work.provider,
        entry_uow_factory=persistence.single_statement_unit_of_work.provider,
        record_uow_factory=persistence.order_entry_unit_of_work.provider,
        queue=messaging.order_queue,
        catalog=core.catalog,
        clock=core.clock,
        ids=core.ids,
        directory=directory,
        prices=api.prices,
    )

    # Engines name the orders they create (TP/SL, liquidations) with the process's unique ids, so
    # the names never repeat across restarts or workers.
    engine = providers.Singleton(MatchingEngine, catalog=core.catalog, clock=core.clock.provided.now_ms, ids=core.ids)
    engine_service = providers.Singleton(
        EngineService,
        engine=engine,
        uow_factory=persistence.unit_of_work.provider,
        events=messaging.event_bus,
        outcome_uow_factory=persistence.outcome_unit_of_work.provider,
    )
    #: Takes replay accounts' commands out of a batch of queued commands and sends them to their
    #: session (through this process's runner); `handle` sends the rest to `engine_service`.
    order_router = providers.Singleton(
        ReplayCommandRouter,
        uow_factory=persistence.unit_of_work.provider,
        dispatch=replay.worker_dispatch,
        live=engine_service.provided.handle,
        directory=directory,
    )
    worker_config = providers.Factory(
        WorkerConfig,
        worker_id=providers.Callable(worker_identity),
        lease_ttl_ms=settings.provided.worker_lease_ttl_ms,
        # renewed four times per lifetime, so that one slow round never lets a lease lapse
        rebalance_every_ms=providers.Callable(lambda ttl: max(50, ttl // 4), settings.provided.worker_lease_ttl_ms),
        reclaim_idle_ms=settings.provided.worker_reclaim_idle_ms,
        sweep_after_ms=settings.provided.worker_sweep_after_ms,
        linger_ms=settings.provided.worker_linger_ms,
    )
    worker = providers.Singleton(
        Worker,
        config=worker_config,
        engine_factory=providers.Factory(
            MatchingEngine, catalog=core.catalog, clock=core.clock.provided.now_ms, ids=core.ids
        ).provider,
        uow_factory=persistence.unit_of_work.provider,
        outcome_uow_factory=persistence.outcome_unit_of_work.provider,
        queue=messaging.order_queue,
        prices=messaging.price_bus,
        events=messaging.event_bus,
        leases=messaging.leases,
        catalog=core.catalog,
        clock=core.clock,
        route=order_router.provided.split,
    )
    candle_writer = providers.Singleton(CandleWriter, uow_factory=persistence.unit_of_work.provider)
    streamer = providers.Singleton(
        MarketStreamer,
        feeds=market_data.feeds,
        symbols=settings.provided.symbols,
        bus=messaging.price_bus,
        candles=candle_writer,
    )


def build_container(settings: Settings, options: ContainerOptions | None = None) -> Container:
    return Container(settings=settings, options=options or ContainerOptions())


async def provide(value: T | Awaitable[T]) -> T:
    """A provider that depends on an async resource returns an awaitable; others return the object."""
    if inspect.isawaitable(value):
        return await value
    return value
