"""`tradesim api`: the HTTP/WebSocket api (Quart on hypercorn)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tradesim.entrypoints.runner import Process


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    api = commands.add_parser(
        "api", help="run the HTTP/WebSocket api (Quart on hypercorn) on TRADESIM_HTTP_HOST:TRADESIM_HTTP_PORT"
    )
    api.set_defaults(handler=run)


def run(_: argparse.Namespace) -> int:
    # Imported here so that `tradesim --help` needs nothing beyond the standard library.
    from tradesim.entrypoints.runner import run_role

    return run_role("api", "api", serve)


async def serve(process: Process) -> None:
    from tradesim.entrypoints.heap import settled_while_serving
    from tradesim.entrypoints.http.app import create_app, routes_wired
    from tradesim.entrypoints.http.server import serve_api

    with routes_wired(process.container):
        app = create_app(process.container)
        app.while_serving(settled_while_serving)
        await process.supervise({"api": serve_api(app, process.settings, shutdown_trigger=process.stop.wait)})
