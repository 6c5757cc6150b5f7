"""`tradesim worker`: the matching engine for the partitions it owns, the replay sessions and the
live strategy deployments it holds."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tradesim.entrypoints.runner import Process


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    worker = commands.add_parser("worker", help="run a simulation worker (matching engine)")
    worker.set_defaults(handler=run)


def run(_: argparse.Namespace) -> int:
    from tradesim.entrypoints.runner import run_role

    return run_role("worker", "worker", serve_worker)


async def serve_worker(process: Process) -> None:
    from tradesim.entrypoints.container import provide
    from tradesim.entrypoints.deployment_host import serve_deployments
    from tradesim.entrypoints.heap import settle_heap

    container = process.container
    worker = await provide(container.worker(on_take_over=settle_heap))
    runner = await provide(container.replay.runner())
    # One part failing (a bug) stops the others too: the supervisor restarts the whole worker.
    await process.supervise(
        {
            "engine": worker.run(process.stop),
            "replays": runner.run(process.stop),
            "deployments": serve_deployments(container, process.stop),
        }
    )
