"""`tradesim serve`: the whole simulator in one process, on the embedded defaults.

api (HTTP and WebSocket), worker (matching engine), replay runner, strategy backtests, market streamer and the
nightly history sync, sharing one container: SQLite under the data dir (migrated on start),
the in-process bus and queue, the local object folder. `--feed replay` plays stored history
as the live feed, for a machine with no internet.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    from tradesim.entrypoints.runner import Process


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
    from tradesim.entrypoints.roles import ROLES
    from tradesim.entrypoints.runner import run_role

    try:
        start = date.fromisoformat(args.replay_from) if args.replay_from else None
        speed = Decimal(args.replay_speed)
        if not speed > 0:
            raise ValueError("--replay-speed must be a positive number of bars per second")
    except (ValueError, InvalidOperation) as error:
        print(f"tradesim serve: {error}", file=sys.stderr)
        return 2
    # The command's flags reach the container as its configuration, before it is built.
    options = attrs.evolve(
        ROLES["serve"].container,
        feed=args.feed,
        replay_from=start.isoformat() if start else None,
        replay_speed=str(speed),
    )
    return run_role("serve", "serve", serve_all, options=options)


async def serve_all(process: Process) -> int:
    from tradesim.adapters.stored_feed import StoredHistoryFeed
    from tradesim.application.nightly import run_nightly
    from tradesim.domain.errors import NotFound
    from tradesim.entrypoints.cli.worker import deployment_host, strategy_run_worker
    from tradesim.entrypoints.container import provide
    from tradesim.entrypoints.heap import settle_heap, settled_while_serving
    from tradesim.entrypoints.http.app import create_app, routes_wired
    from tradesim.entrypoints.http.server import serve_api

    container, settings = process.container, process.settings
    feeds = container.market_data.feeds()
    try:
        for feed in feeds:
            if isinstance(feed, StoredHistoryFeed):
                # Refuse at once, with the reason, when nothing is stored.
                await feed.stored_days(settings.symbols)
    except NotFound as error:
        print(f"tradesim serve: {error}", file=sys.stderr)
        return 1
    streamer = container.streamer()
    worker = await provide(container.worker(on_take_over=settle_heap))
    runner = await provide(container.replay.runner())
    history = await provide(container.history.sync())

    async def nightly_sync(day: date) -> object:
        return await history.sync(list(settings.symbols), day)

    with routes_wired(container):
        app = create_app(container)
        app.while_serving(settled_while_serving)
        source = "stored history" if container.core.options().feed == "replay" else ", ".join(settings.feeds)
        print(
            f"tradesim serving on http://{settings.http_host}:{settings.http_port} "
            f"(OpenAPI at /openapi.json, docs at /docs); data in {settings.data_dir.resolve()}; "
            f"feed: {source}; Ctrl-C stops it",
            file=sys.stderr,
            flush=True,
        )
        jobs = {
            "api": serve_api(app, settings, shutdown_trigger=process.stop.wait),
            "worker": worker.run(process.stop),
            "replay": runner.run(process.stop),
            "streamer": streamer.run(),
            "nightly-sync": run_nightly(nightly_sync, container.core.clock()),
        }
        if (deployments := deployment_host(process)) is not None:
            jobs["deployments"] = deployments
        if (strategy_runs := strategy_run_worker(process)) is not None:
            jobs["strategy-runs"] = strategy_runs.run(process.stop)
        await process.supervise(jobs, cancel_on_stop={"streamer", "nightly-sync"})
    return 0
