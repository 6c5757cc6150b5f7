"""`tradesim serve`: the whole simulator in one process, on the embedded defaults.

api (HTTP and WebSocket), worker (matching engine), replay runner, market streamer and the
nightly history sync, sharing one container: SQLite under the data dir (migrated on start),
the in-process bus and queue, the local object folder. `--feed replay` plays stored history
as the live feed, for a machine with no internet.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import date
from decimal import Decimal, InvalidOperation

from tradesim.entrypoints.cli.common import run_async


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = commands.add_parser("serve", help="run api, worker, streamer and the nightly sync in one process")
    serve.add_argument(
        "--feed",
        choices=["live", "replay"],
        default="live",
        help="live: the exchanges' WebSockets (needs internet); replay: stored history played as live",
    )
    serve.add_argument("--replay-from", metavar="YYYY-MM-DD", help="with --feed replay: the first day to play")
    serve.add_argument(
        "--replay-speed", default="1", metavar="BARS/S", help="with --feed replay: bars per second (default 1)"
    )
    serve.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from tradesim.entrypoints.http.observability import configure_logging
    from tradesim.entrypoints.settings import ConfigurationError, Settings

    try:
        settings = Settings.from_env(role="serve")
        start = date.fromisoformat(args.replay_from) if args.replay_from else None
        speed = Decimal(args.replay_speed)
        if not speed > 0:
            raise ValueError("--replay-speed must be a positive number of bars per second")
    except (ConfigurationError, ValueError, InvalidOperation) as error:
        print(f"tradesim serve: {error}", file=sys.stderr)
        return 2
    configure_logging()
    from tradesim.domain.errors import NotFound

    try:
        run_async(serve_all(settings, feed=args.feed, replay_from=start, replay_speed=speed))
    except NotFound as error:
        print(f"tradesim serve: {error}", file=sys.stderr)
        return 1
    return 0


async def serve_all(settings: object, *, feed: str, replay_from: date | None, replay_speed: Decimal) -> None:
    import contextlib
    import logging
    import signal

    from dependency_injector import providers

    from tradesim.adapters.stored_feed import StoredHistoryFeed
    from tradesim.application.nightly import run_nightly
    from tradesim.application.streaming import MarketStreamer
    from tradesim.entrypoints.bootstrap import prepare_database, start_resources, stop_container
    from tradesim.entrypoints.container import build_container, provide
    from tradesim.entrypoints.heap import settle_heap, settled_while_serving
    from tradesim.entrypoints.http.app import ApiOptions, create_app
    from tradesim.entrypoints.http.server import serve_api
    from tradesim.entrypoints.settings import Settings

    assert isinstance(settings, Settings)
    log = logging.getLogger("tradesim.serve")
    await prepare_database(settings)
    container = build_container(settings)
    # One process owns every replay session: take them back at once after a restart.
    container.replay.owner.override(providers.Object("serve"))
    await start_resources(container)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)

    uow = container.persistence.unit_of_work
    if feed == "replay":
        stored = StoredHistoryFeed(
            uow,
            container.storage.candle_store(),
            container.core.clock(),
            bars_per_second=replay_speed,
            start=replay_from,
        )
        await stored.stored_days(settings.symbols)  # refuse at once, with the reason, when nothing is stored
        streamer = MarketStreamer(
            [stored], settings.symbols, container.messaging.price_bus(), container.candle_writer()
        )
    else:
        streamer = container.streamer()
    worker = await provide(container.worker(on_take_over=settle_heap))
    runner = await provide(container.replay.runner())
    history = container.history.sync()

    async def nightly_sync(day: date) -> object:
        return await history.sync(list(settings.symbols), day)

    # The replay runner lives in this process: controls go to it directly, not through an inbox.
    app = create_app(container, ApiOptions(manage_resources=False, replay_dispatch="runner"))
    app.while_serving(settled_while_serving)
    tasks = [
        asyncio.create_task(serve_api(app, settings, shutdown_trigger=stop.wait), name="api"),
        asyncio.create_task(worker.run(stop), name="worker"),
        asyncio.create_task(runner.run(stop), name="replay"),
        asyncio.create_task(streamer.run(), name="streamer"),
        asyncio.create_task(run_nightly(nightly_sync, container.core.clock()), name="nightly-sync"),
    ]
    print(
        f"tradesim serving on http://{settings.http_host}:{settings.http_port} "
        f"(OpenAPI at /openapi.json, docs at /docs); data in {settings.data_dir.resolve()}; "
        f"feed: {'stored history' if feed == 'replay' else ', '.join(settings.feeds)}; Ctrl-C stops it",
        file=sys.stderr,
        flush=True,
    )
    stopping = asyncio.create_task(stop.wait())
    try:
        done, _ = await asyncio.wait([stopping, *tasks], return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            if task is not stopping and not task.cancelled() and task.exception() is not None:
                log.critical("%s stopped: %s", task.get_name(), task.exception())
                raise task.exception()  # type: ignore[misc]
    finally:
        stop.set()
        for task in tasks:
            if task.get_name() in ("streamer", "nightly-sync"):
                task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 15)
        stopping.cancel()
        await stop_container(container)
