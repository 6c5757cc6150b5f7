"""`tradesim worker`: a simulation worker hosting the matching engine."""

from __future__ import annotations

import argparse

from tradesim.entrypoints.cli.common import not_built


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    worker = commands.add_parser("worker", help="run a simulation worker (matching engine)")
    worker.set_defaults(handler=not_built("worker"))
