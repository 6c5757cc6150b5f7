"""`tradesim worker`: the matching engine for the partitions it owns, the replay sessions and the
live strategy deployments it holds, and queued strategy backtests (with the jesse extra)."""

from __future__ import annotations

import argparse
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tradesim.application.strategy_run_worker import StrategyRunWorker
    from tradesim.entrypoints.runner import Process


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    worker = commands.add_parser("worker", help="run a simulation worker (matching engine)")
    worker.set_defaults(handler=run)


def run(_: argparse.Namespace) -> int:
    from tradesim.entrypoints.runner import run_role

    return run_role("worker", "worker", serve_worker)


async def serve_worker(process: Process) -> None:
    from tradesim.entrypoints.container import provide
    from tradesim.entrypoints.heap import settle_heap

    container = process.container
    worker = await provide(container.worker(on_take_over=settle_heap))
    runner = await provide(container.replay.runner())
    jobs = {
        "engine": worker.run(process.stop),
        "replays": runner.run(process.stop),
    }
    if (deployments := deployment_host(process)) is not None:
        jobs["deployments"] = deployments
    if (strategy_runs := strategy_run_worker(process)) is not None:
        jobs["strategy-runs"] = strategy_runs.run(process.stop)
    # One part failing (a bug) stops the others too: the supervisor restarts the whole worker.
    await process.supervise(jobs)


def deployment_host(process: Process) -> Coroutine[Any, Any, None] | None:
    """Live strategy deployments, where the jesse extra is installed and TRADESIM_STRATEGY_DEPLOYMENTS
    allows it (a worker without them runs orders and replays only; deployments wait for one that has)."""
    from tradesim.entrypoints.deployment_host import serve_deployments
    from tradesim.entrypoints.strategy_backtests import jesse_available

    if not (process.settings.strategy_deployments and jesse_available()):
        return None
    return serve_deployments(process.container, process.stop)


def strategy_run_worker(process: Process) -> StrategyRunWorker | None:
    """The strategy backtest loop, where the jesse extra is installed and TRADESIM_STRATEGY_RUNS allows it."""
    import functools

    from tradesim.entrypoints.strategy_backtests import jesse_available, process_backtester

    if not (process.settings.strategy_runs and jesse_available()):
        return None
    worker: StrategyRunWorker = process.container.strategies.worker(
        backtester=functools.partial(process_backtester, process.settings)
    )
    return worker
