"""`tradesim api`: the HTTP/WebSocket api (Quart on hypercorn)."""

from __future__ import annotations

import argparse
import sys

from tradesim.entrypoints.cli.common import run_async


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    api = commands.add_parser(
        "api", help="run the HTTP/WebSocket api (Quart on hypercorn) on TRADESIM_HTTP_HOST:TRADESIM_HTTP_PORT"
    )
    api.set_defaults(handler=run)


def run(_: argparse.Namespace) -> int:
    # Imported here so that `tradesim --help` needs nothing beyond the standard library.
    from tradesim.entrypoints.bootstrap import prepare_database
    from tradesim.entrypoints.container import build_container
    from tradesim.entrypoints.heap import settled_while_serving
    from tradesim.entrypoints.http.app import create_app
    from tradesim.entrypoints.http.observability import configure_logging
    from tradesim.entrypoints.http.server import serve_api
    from tradesim.entrypoints.settings import ConfigurationError, Settings

    try:
        settings = Settings.from_env(role="api")
    except ConfigurationError as error:
        print(f"tradesim api: {error}", file=sys.stderr)
        return 2
    configure_logging()

    async def main() -> None:
        await prepare_database(settings)
        app = create_app(build_container(settings))
        app.while_serving(settled_while_serving)
        await serve_api(app, settings)

    run_async(main())
    return 0
