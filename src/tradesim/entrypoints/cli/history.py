"""`tradesim history sync|backfill`: 1m candle history into the object store."""

from __future__ import annotations

import argparse

from tradesim.entrypoints.cli.common import not_built


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    history = commands.add_parser("history", help="candle history in the object store")
    history_commands = history.add_subparsers(dest="history_command", metavar="SUBCOMMAND", required=True)
    sync = history_commands.add_parser("sync", help="download one UTC day of 1m candles for every symbol")
    sync.add_argument("--date", help="YYYY-MM-DD (default: yesterday, UTC)")
    sync.set_defaults(handler=not_built("history sync"))
    backfill = history_commands.add_parser("backfill", help="download a range of days for one symbol")
    backfill.add_argument("--symbol", required=True)
    backfill.add_argument("--start", required=True, help="YYYY-MM-DD")
    backfill.add_argument("--end", required=True, help="YYYY-MM-DD (inclusive)")
    backfill.set_defaults(handler=not_built("history backfill"))
