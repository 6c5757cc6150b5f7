"""`tradesim worker`: a simulation worker hosting the matching engine for the partitions it owns."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal

from tradesim.entrypoints.settings import Settings


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    worker = commands.add_parser("worker", help="run a simulation worker (matching engine)")
    worker.set_defaults(handler=run)


def run(_: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = Settings.from_env(role="worker")
    asyncio.run(serve_worker(settings))
    return 0


async def serve_worker(settings: Settings) -> None:
    from tradesim.entrypoints.bootstrap import start_container, stop_container
    from tradesim.entrypoints.container import provide

    container = await start_container(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        worker = await provide(container.worker())
        await worker.run(stop)
    finally:
        await stop_container(container)
