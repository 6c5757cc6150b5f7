"""`tradesim worker`: the matching engine for the partitions it owns, and the replay sessions it holds."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal

from tradesim.entrypoints.cli.common import run_async
from tradesim.entrypoints.settings import Settings


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    worker = commands.add_parser("worker", help="run a simulation worker (matching engine)")
    worker.set_defaults(handler=run)


def run(_: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = Settings.from_env(role="worker")
    run_async(serve_worker(settings))
    return 0


async def serve_worker(settings: Settings) -> None:
    from tradesim.entrypoints.bootstrap import start_container, stop_container
    from tradesim.entrypoints.container import provide
    from tradesim.entrypoints.heap import settle_heap

    container = await start_container(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        worker = await provide(container.worker(on_take_over=settle_heap))
        runner = await provide(container.replay.runner())
        tasks = [
            asyncio.create_task(worker.run(stop), name="engine"),
            asyncio.create_task(runner.run(stop), name="replays"),
        ]
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        # One part failing (a bug) stops the other too: the supervisor restarts the whole worker.
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        for task in done:
            task.result()
    finally:
        await stop_container(container)
