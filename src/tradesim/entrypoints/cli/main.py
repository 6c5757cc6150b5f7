"""`tradesim` command: parses arguments and dispatches to the command modules.

The parser imports nothing heavy, so `tradesim --help` works on a bare install; each command
imports what it needs only when it runs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

Handler = Callable[[argparse.Namespace], int]


def _not_built(name: str) -> Handler:
    def run(_: argparse.Namespace) -> int:
        print(f"tradesim {name}: not built yet (see the open issues); nothing was done.", file=sys.stderr)
        return 2

    return run


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tradesim", description="Trading simulator backend.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    serve = commands.add_parser("serve", help="run api, worker, streamer and the nightly sync in one process")
    serve.add_argument("--feed", choices=["live", "replay"], default="live", help="market feed (default: live)")
    serve.set_defaults(handler=_not_built("serve"))

    commands.add_parser("api", help="run the HTTP/WebSocket api (Quart on hypercorn)").set_defaults(
        handler=_not_built("api")
    )
    commands.add_parser("worker", help="run a simulation worker (matching engine)").set_defaults(
        handler=_not_built("worker")
    )
    commands.add_parser("streamer", help="stream exchange prices into the bus").set_defaults(
        handler=_not_built("streamer")
    )

    history = commands.add_parser("history", help="candle history in the object store")
    history_commands = history.add_subparsers(dest="history_command", metavar="SUBCOMMAND", required=True)
    sync = history_commands.add_parser("sync", help="download one UTC day of 1m candles for every symbol")
    sync.add_argument("--date", help="YYYY-MM-DD (default: yesterday, UTC)")
    sync.set_defaults(handler=_not_built("history sync"))
    backfill = history_commands.add_parser("backfill", help="download a range of days for one symbol")
    backfill.add_argument("--symbol", required=True)
    backfill.add_argument("--start", required=True, help="YYYY-MM-DD")
    backfill.add_argument("--end", required=True, help="YYYY-MM-DD (inclusive)")
    backfill.set_defaults(handler=_not_built("history backfill"))

    db = commands.add_parser("db", help="database schema")
    db_commands = db.add_subparsers(dest="db_command", metavar="SUBCOMMAND", required=True)
    db_commands.add_parser("upgrade", help="apply every migration").set_defaults(handler=_not_built("db upgrade"))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    return handler(args)


if __name__ == "__main__":
    sys.exit(main())
