"""`tradesim` command: parses arguments and dispatches to one module per command.

The parser imports nothing heavy, so `tradesim --help` works on a bare install; each command
imports what it needs only when it runs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from tradesim.entrypoints.cli import api, db, history, serve, strategies, streamer, worker
from tradesim.entrypoints.cli.common import Handler

COMMANDS = (serve, api, worker, streamer, history, db, strategies)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tradesim", description="Trading simulator backend.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in COMMANDS:
        module.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    return handler(args)


if __name__ == "__main__":
    sys.exit(main())
