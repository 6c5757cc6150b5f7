"""`tradesim streamer`: exchange prices into the bus, closed candles into the database."""

from __future__ import annotations

import argparse

from tradesim.entrypoints.cli.common import not_built


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    streamer = commands.add_parser("streamer", help="stream exchange prices into the bus")
    streamer.set_defaults(handler=not_built("streamer"))
