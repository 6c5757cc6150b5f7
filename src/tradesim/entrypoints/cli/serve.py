"""`tradesim serve`: api, worker, streamer and the nightly sync in one process on the embedded defaults."""

from __future__ import annotations

import argparse

from tradesim.entrypoints.cli.common import not_built


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = commands.add_parser("serve", help="run api, worker, streamer and the nightly sync in one process")
    serve.add_argument("--feed", choices=["live", "replay"], default="live", help="market feed (default: live)")
    serve.set_defaults(handler=not_built("serve"))
