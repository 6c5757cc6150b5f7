"""`tradesim api`: the HTTP/WebSocket api (Quart on hypercorn)."""

from __future__ import annotations

import argparse

from tradesim.entrypoints.cli.common import not_built


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    api = commands.add_parser("api", help="run the HTTP/WebSocket api (Quart on hypercorn)")
    api.set_defaults(handler=not_built("api"))
