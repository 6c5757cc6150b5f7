"""Bar Replay: the shared day cache, the session runner of this process, the api's service.

The bar bus and the inbox follow the messaging backend: in-process without
`TRADESIM_REDIS_URL` (`serve`: api and runner in one process), Redis with it (channel
``replay.{replayId}`` for bars; a list per session and a set of waiting sessions for the inbox),
so an api process reaches the runners in the workers.
"""

from __future__ import annotations

import os
import socket

from dependency_injector import containers, providers

from tradesim.adapters.memory.replays import MemoryReplayBarBus, MemoryReplayInbox
from tradesim.adapters.redis.replays import RedisReplayBarBus, RedisReplayInbox
from tradesim.application.accounts import AccountService
from tradesim.application.replay.active import Ports
from tradesim.application.replay.cache import BarCache
from tradesim.application.replay.prices import ReplayPrices
from tradesim.application.replay.runner import ReplayRunner
from tradesim.application.replay.service import InboxDispatch, ReplayService


def runner_owner(fixed: str | None = None) -> str:
    """This process's name on the leases it holds: host and pid, so a restarted worker waits for its
    old leases to lapse; `serve` has a fixed name (`ContainerOptions.replay_owner`) to take its
    sessions back at once."""
    return fixed or f"{socket.gethostname()}:{os.getpid()}"


class Replay(containers.DeclarativeContainer):
    core = providers.DependenciesContainer()
    persistence = providers.DependenciesContainer()
    messaging = providers.DependenciesContainer()
    storage = providers.DependenciesContainer()

    bar_bus = providers.Selector(
        messaging.backend,
        memory=providers.Singleton(MemoryReplayBarBus),
        redis=providers.Singleton(RedisReplayBarBus, client=messaging.redis, namespace=messaging.namespace),
    )
    inbox = providers.Selector(
        messaging.backend,
        memory=providers.Singleton(MemoryReplayInbox),
        redis=providers.Singleton(RedisReplayInbox, client=messaging.redis, namespace=messaging.namespace),
    )
    cache = providers.Singleton(BarCache, store=storage.candle_store)
    owner = providers.Callable(runner_owner, core.options.provided.replay_owner)
    ports = providers.Singleton(
        Ports,
        uow=persistence.unit_of_work.provider,
        bars=bar_bus,
        events=messaging.event_bus,
        catalog=core.catalog,
        wall=core.clock,
    )
    #: Runs `run(stop)` as a task in `serve` and in every worker.
    runner = providers.Singleton(ReplayRunner, ports=ports, cache=cache, inbox=inbox, owner=owner)
    #: For an api process whose runners live in workers.
    inbox_dispatch = providers.Singleton(InboxDispatch, inbox=inbox)
    #: Where a worker sends the queued commands of replay accounts: straight to this process's
    #: runner in `serve`; through the inbox between workers, so that the one holding the session
    #: gets them (or the first to adopt it).
    worker_dispatch = providers.Selector(messaging.backend, memory=runner, redis=inbox_dispatch)
    accounts = providers.Factory(
        AccountService, uow_factory=persistence.unit_of_work.provider, clock=core.clock, ids=core.ids
    )
    service = providers.Factory(
        ReplayService,
        uow_factory=persistence.unit_of_work.provider,
        accounts=accounts,
        cache=cache,
        dispatch=runner,
        catalog=core.catalog,
        clock=core.clock,
        ids=core.ids,
        playing_quota=core.quotas.provided.replays,
    )
    #: The same service, its controls going through the inbox to whichever worker runs the session.
    inbox_service = providers.Factory(service, dispatch=inbox_dispatch)
    #: Which of the two the api uses: "inbox" where the runners live in workers (`tradesim api`),
    #: "runner" where this process runs them (`serve`), as `ContainerOptions.replay_dispatch` says.
    api_service = providers.Selector(core.options.provided.replay_dispatch, inbox=inbox_service, runner=service)
    #: What replay accounts are valued and checked at (their sessions' prices).
    prices = providers.Singleton(ReplayPrices, cache=cache)
