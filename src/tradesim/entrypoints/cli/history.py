"""`tradesim history sync|backfill`: 1m candle history into the object store.

Exit codes: 0 every day complete; 3 some day has missing minutes or no data at all (listed
at the end); 1 some day could not be fetched (the exchange was unreachable or refused); 2 bad
arguments or configuration.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from typing import TYPE_CHECKING

import attrs

from tradesim.entrypoints.containers.history import EXCHANGES

if TYPE_CHECKING:
    from tradesim.entrypoints.runner import Process

EXIT_USAGE = 2


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    history = commands.add_parser("history", help="candle history in the object store")
    history_commands = history.add_subparsers(dest="history_command", metavar="SUBCOMMAND", required=True)
    sync = history_commands.add_parser("sync", help="download one UTC day of 1m candles for every symbol")
    sync.add_argument("--date", help="YYYY-MM-DD (default: yesterday, UTC)")
    sync.add_argument("--source", choices=EXCHANGES, default="bybit", help="exchange to fetch from (default: bybit)")
    sync.set_defaults(handler=run_sync)
    backfill = history_commands.add_parser("backfill", help="download a range of days for one symbol")
    backfill.add_argument("--symbol", required=True)
    backfill.add_argument("--start", required=True, help="YYYY-MM-DD")
    backfill.add_argument("--end", required=True, help="YYYY-MM-DD (inclusive)")
    backfill.add_argument(
        "--source", choices=EXCHANGES, default="bybit", help="exchange to fetch from (default: bybit)"
    )
    backfill.set_defaults(handler=run_backfill)


def run_sync(args: argparse.Namespace) -> int:
    return _run(args, backfill=False)


def run_backfill(args: argparse.Namespace) -> int:
    return _run(args, backfill=True)


def _run(args: argparse.Namespace, *, backfill: bool) -> int:
    from tradesim.entrypoints.roles import ROLES
    from tradesim.entrypoints.runner import run_role

    async def main(process: Process) -> int:
        return await _history(process, args, backfill=backfill)

    # Which exchange to fetch from reaches the container as its configuration.
    options = attrs.evolve(ROLES["sync"].container, history_source=args.source)
    return run_role("history", "sync", main, options=options, long_running=False)


async def _history(process: Process, args: argparse.Namespace, *, backfill: bool) -> int:
    from tqdm import tqdm

    from tradesim.application.history import DayOutcome, HistoryReport, HistorySync, parse_day
    from tradesim.domain.errors import TradesimError
    from tradesim.entrypoints.container import provide

    try:
        if backfill:
            start, end = parse_day(args.start, "--start"), parse_day(args.end, "--end")
            symbols, days = [args.symbol.strip().upper()], (end - start).days + 1
        else:
            day: date | None = parse_day(args.date, "--date") if args.date else None
            symbols, days = list(process.settings.symbols), 1
        sync: HistorySync = await provide(process.container.history.sync())
    except TradesimError as error:
        print(f"tradesim history: {error}", file=sys.stderr)
        return EXIT_USAGE

    bar = tqdm(total=max(days, 0) * len(symbols), unit="day", desc="history", file=sys.stderr)

    def progress(outcome: DayOutcome) -> None:
        bar.set_postfix_str(f"{outcome.symbol} {outcome.day} {outcome.status.value}")
        bar.update(1)

    try:
        report: HistoryReport
        if backfill:
            report = await sync.backfill(symbols[0], start, end, on_day=progress)
        else:
            report = await sync.sync(symbols, day, on_day=progress)
    except TradesimError as error:
        print(f"tradesim history: {error}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        bar.close()
    for line in report.summary():
        print(line)
    return report.exit_code
