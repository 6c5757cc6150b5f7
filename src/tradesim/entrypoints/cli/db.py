"""`tradesim db upgrade`: apply the schema migrations."""

from __future__ import annotations

import argparse

from tradesim.entrypoints.cli.common import not_built


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    db = commands.add_parser("db", help="database schema")
    db_commands = db.add_subparsers(dest="db_command", metavar="SUBCOMMAND", required=True)
    db_commands.add_parser("upgrade", help="apply every migration").set_defaults(handler=not_built("db upgrade"))
