"""The Jesse backtester of the strategy-run worker: what its child process builds.

Imported only by the commands that run workers (`tradesim worker`, `tradesim serve`), never by
the api (import-linter): the child it configures imports Jesse.
"""

from __future__ import annotations

import functools
from typing import Any

from tradesim.entrypoints.settings import Settings
from tradesim.ports.strategy_runs import Backtester


def jesse_available() -> bool:
    """Whether the `jesse` extra is installed (workers without it run no strategies)."""
    import importlib.util

    return importlib.util.find_spec("jesse") is not None


def jesse_runner(settings: Settings) -> tuple[Any, Any]:
    """Runs in the backtester's child process: the runner over the configured object store, and its catalogue."""
    from tradesim.adapters.jesse.backtest import JesseStrategyRunner
    from tradesim.adapters.jesse.catalogue import StrategyCatalogue
    from tradesim.domain.catalog import default_catalog
    from tradesim.entrypoints.containers.storage import candle_store_for

    catalog = default_catalog()
    catalogue = StrategyCatalogue(settings.strategies_dirs)
    return JesseStrategyRunner(catalogue, candle_store_for(settings, catalog), catalog), catalogue


def process_backtester(settings: Settings) -> Backtester:
    from tradesim.adapters.jesse.pool import JesseProcessBacktester

    return JesseProcessBacktester(functools.partial(jesse_runner, settings))
