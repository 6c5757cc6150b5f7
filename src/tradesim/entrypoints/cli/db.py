"""`tradesim db upgrade`: apply the schema migrations to the database of `TRADESIM_DATABASE_URL`.

Safe to re-run (an up-to-date database is left as it is); on PostgreSQL it also creates the
`market_candles` partitions of the current and the next month, so a daily run keeps them ahead.
"""

from __future__ import annotations

import argparse
import sys


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    db = commands.add_parser("db", help="database schema")
    db_commands = db.add_subparsers(dest="db_command", metavar="SUBCOMMAND", required=True)
    upgrade = db_commands.add_parser(
        "upgrade", help="apply every migration (to the database of TRADESIM_DATABASE_URL, SQLite by default)"
    )
    upgrade.add_argument("--revision", default="head", help="migrate to this revision instead of the newest")
    upgrade.set_defaults(handler=run_upgrade)


def run_upgrade(args: argparse.Namespace) -> int:
    # Imported here so that `tradesim --help` needs none of the database packages.
    from tradesim.adapters.sqlalchemy.database import is_sql_url, redacted
    from tradesim.adapters.sqlalchemy.migrate import upgrade_to_head
    from tradesim.entrypoints.settings import ConfigurationError, Settings
    from tradesim.ports.errors import DependencyUnavailable

    try:
        settings = Settings.from_env()
    except ConfigurationError as error:
        print(f"tradesim db upgrade: {error}", file=sys.stderr)
        return 2
    if not is_sql_url(settings.database_url):
        print(f"tradesim db upgrade: {settings.database_url!r} is not a SQL database; nothing to do", file=sys.stderr)
        return 2
    where = redacted(settings.database_url)
    try:
        revision = upgrade_to_head(settings.database_url, args.revision)
    except DependencyUnavailable as error:
        print(f"tradesim db upgrade: {where}: {error.message}", file=sys.stderr)
        return 1
    print(f"{where} is at revision {revision}")
    return 0
