"""`tradesim db upgrade`: apply the schema migrations to the database of `TRADESIM_DATABASE_URL`.

Safe to re-run (an up-to-date database is left as it is), and to run twice at once: on PostgreSQL
an advisory lock makes the second wait for the first. On PostgreSQL it also creates the
`market_candles` partitions of the current and the next month, so a daily run keeps them ahead.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tradesim.entrypoints.runner import Process


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    db = commands.add_parser("db", help="database schema")
    db_commands = db.add_subparsers(dest="db_command", metavar="SUBCOMMAND", required=True)
    upgrade = db_commands.add_parser(
        "upgrade", help="apply every migration (to the database of TRADESIM_DATABASE_URL, SQLite by default)"
    )
    upgrade.add_argument("--revision", default="head", help="migrate to this revision instead of the newest")
    upgrade.set_defaults(handler=run_upgrade)


def run_upgrade(args: argparse.Namespace) -> int:
    from tradesim.entrypoints.runner import run_role

    async def upgrade(process: Process) -> int:
        return await _upgrade(process, args.revision)

    return run_role("db upgrade", "migrate", upgrade, long_running=False)


async def _upgrade(process: Process, revision: str) -> int:
    # Imported here so that `tradesim --help` needs none of the database packages.
    from tradesim.adapters.sqlalchemy.database import is_sql_url, redacted
    from tradesim.adapters.sqlalchemy.migrate import upgrade_to_head_async
    from tradesim.ports.errors import DependencyUnavailable

    url = process.settings.database_url
    if not is_sql_url(url):
        print(f"tradesim db upgrade: {url!r} is not a SQL database; nothing to do", file=sys.stderr)
        return 2
    if process.settings.uses_sqlite:
        from tradesim.entrypoints.bootstrap import sqlite_folder

        sqlite_folder(url).mkdir(parents=True, exist_ok=True)
    where = redacted(url)
    try:
        at = await upgrade_to_head_async(url, revision)
    except DependencyUnavailable as error:
        print(f"tradesim db upgrade: {where}: {error.message}", file=sys.stderr)
        return 1
    print(f"{where} is at revision {at}", flush=True)
    return 0
