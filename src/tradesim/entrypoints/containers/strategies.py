"""Strategy backtest runs: the published catalogue, the progress bus, the api's service, the worker's loop.

The catalogue board and the progress bus follow the messaging backend: in-process without
`TRADESIM_REDIS_URL` (`serve`), Redis with it, so the api reads what the workers loaded. The
worker's `Backtester` is given by the command that runs it (`cli/worker.py`, `cli/serve.py`):
building it involves Jesse, which this container (imported by the api) must not.
"""

from __future__ import annotations

from dependency_injector import containers, providers

from tradesim.adapters.memory.strategy_runs import MemoryStrategyCatalogueBoard, MemoryStrategyRunUpdates
from tradesim.adapters.redis.strategy_runs import RedisStrategyCatalogueBoard, RedisStrategyRunUpdates
from tradesim.application.strategy_run_worker import StrategyRunWorker
from tradesim.application.strategy_runs import StrategyRunService
from tradesim.entrypoints.containers.replay import runner_owner


class Strategies(containers.DeclarativeContainer):
    core = providers.DependenciesContainer()
    persistence = providers.DependenciesContainer()
    messaging = providers.DependenciesContainer()
    storage = providers.DependenciesContainer()

    board = providers.Selector(
        messaging.backend,
        memory=providers.Singleton(MemoryStrategyCatalogueBoard),
        redis=providers.Singleton(RedisStrategyCatalogueBoard, client=messaging.redis, namespace=messaging.namespace),
    )
    updates = providers.Selector(
        messaging.backend,
        memory=providers.Singleton(MemoryStrategyRunUpdates),
        redis=providers.Singleton(RedisStrategyRunUpdates, client=messaging.redis, namespace=messaging.namespace),
    )
    service = providers.Factory(
        StrategyRunService,
        uow_factory=persistence.unit_of_work.provider,
        board=board,
        candles=storage.candle_store,
        catalog=core.catalog,
        clock=core.clock,
        ids=core.ids,
        quota=core.quotas.provided.strategy_runs,
    )
    #: Call with ``backtester=`` (a callable making the `Backtester`) from the worker's command.
    worker = providers.Singleton(
        StrategyRunWorker,
        uow_factory=persistence.unit_of_work.provider,
        board=board,
        updates=updates,
        clock=core.clock,
        owner=providers.Callable(runner_owner, core.options.provided.replay_owner),
        lease_ms=core.settings.provided.worker_lease_ttl_ms,
    )
