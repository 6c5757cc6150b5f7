"""`tradesim strategies list|backtest`: the strategy catalogue, and a backtest run in this process.

The backtest reads the stored 1m history of the configured object store, runs the same runner the
workers use, shows a progress bar on stderr, and prints a summary (or, with ``--json``, the run as
``GET /api/v1/strategy-runs/{id}`` shapes it) on stdout. ``--end`` is inclusive, as in
``history backfill``: the run covers that whole UTC day.

Exit codes: 0 done; 1 the strategy raised during the run; 2 bad arguments, configuration or job.
Jesse is imported only when a command runs (it takes seconds), never by ``--help``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import uuid
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

EXIT_FAILED = 1
EXIT_USAGE = 2
TIMEFRAMES = ("1m", "5m", "15m", "30m", "1h", "4h", "1D")


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    strategies = commands.add_parser("strategies", help="Jesse strategies: list them, backtest one on stored history")
    sub = strategies.add_subparsers(dest="strategies_command", metavar="SUBCOMMAND", required=True)
    listing = sub.add_parser("list", help="the built-in strategies and those under TRADESIM_STRATEGIES_DIR")
    listing.add_argument("--json", action="store_true", help="print the list as JSON")
    listing.set_defaults(handler=run_list)
    backtest = sub.add_parser("backtest", help="backtest a strategy on the stored 1m history, in this process")
    backtest.add_argument("--strategy", required=True, help="a name from `tradesim strategies list`")
    backtest.add_argument("--symbol", required=True)
    backtest.add_argument("--timeframe", required=True, help=f"one of {', '.join(TIMEFRAMES)}")
    backtest.add_argument("--start", required=True, help="YYYY-MM-DD (UTC)")
    backtest.add_argument("--end", required=True, help="YYYY-MM-DD (UTC, inclusive)")
    backtest.add_argument("--balance", default="10000", help="starting balance in USDT (default: 10000)")
    backtest.add_argument("--leverage", type=int, default=1, help="futures leverage (default: 1)")
    backtest.add_argument(
        "--hp", action="append", default=[], metavar="NAME=VALUE", help="a hyperparameter (repeatable)"
    )
    backtest.add_argument("--json", action="store_true", help="print the run as JSON on stdout")
    backtest.set_defaults(handler=run_backtest)


def _catalogue() -> Any:
    from tradesim.adapters.jesse.catalogue import StrategyCatalogue
    from tradesim.entrypoints.settings import Settings

    settings = Settings.from_env(role="strategies")
    return settings, StrategyCatalogue(settings.strategies_dirs)


def run_list(args: argparse.Namespace) -> int:
    from tradesim.entrypoints.settings import ConfigurationError

    try:
        _, catalogue = _catalogue()
    except ConfigurationError as error:
        print(f"tradesim strategies: {error}", file=sys.stderr)
        return EXIT_USAGE
    items = catalogue.list()
    if args.json:
        print(json.dumps({"list": [i.as_dict() for i in items]}, indent=2))
        return 0
    for info in items:
        if info.error is not None:
            print(f"{info.name:24} {info.source:8} BROKEN: {info.error}")
            continue
        hps = ", ".join(f"{hp.name}={hp.default}" for hp in info.hyperparameters)
        print(f"{info.name:24} {info.source:8} {hps}")
    return 0


def run_backtest(args: argparse.Namespace) -> int:
    return asyncio.run(_backtest(args))


async def _backtest(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from tradesim.application.history import parse_day
    from tradesim.domain.bars import day_start_ms
    from tradesim.domain.errors import TradesimError
    from tradesim.entrypoints.container import build_container
    from tradesim.entrypoints.settings import ConfigurationError
    from tradesim.ports.strategies import StrategyJob

    try:
        start, end = parse_day(args.start, "--start"), parse_day(args.end, "--end")
        if end < start:
            raise _usage("--end is before --start")
        settings, catalogue = _catalogue()
        from tradesim.adapters.jesse.backtest import JesseStrategyRunner, StrategyRunFailed, result_as_dict

        container = build_container(settings)
        job = StrategyJob(
            run_id=f"cli-{uuid.uuid4().hex[:12]}",
            strategy=args.strategy,
            symbol=args.symbol.strip().upper(),
            start_ms=day_start_ms(start),
            end_ms=day_start_ms(end + timedelta(days=1)),
            starting_balance=_balance(args.balance),
            params=dict(_hp(text) for text in args.hp),
            timeframe=args.timeframe,
            leverage=args.leverage,
        )
        runner = JesseStrategyRunner(catalogue, container.storage.candle_store(), container.core.catalog())
        runner.check(job)
    except (ConfigurationError, TradesimError) as error:
        print(f"tradesim strategies: {error}", file=sys.stderr)
        return EXIT_USAGE

    bar = tqdm(total=1000, unit="‰", desc=f"{job.strategy} {job.symbol} {job.timeframe}", file=sys.stderr)

    def progress(done: Decimal) -> None:
        bar.update(int(done * 1000) - bar.n)

    try:
        result = await runner.run(job, progress)
    except StrategyRunFailed as error:
        bar.close()
        print(f"tradesim strategies: {error}", file=sys.stderr)
        return EXIT_FAILED
    except TradesimError as error:
        bar.close()
        print(f"tradesim strategies: {error}", file=sys.stderr)
        return EXIT_USAGE
    bar.close()
    shaped = result_as_dict(job, result)
    if args.json:
        print(json.dumps(shaped, indent=2))
        return 0
    metrics = shaped["metrics"]
    for key in ("total", "win_rate", "net_profit", "net_profit_percentage", "max_drawdown", "sharpe_ratio", "fee"):
        print(f"{key:24} {metrics.get(key, '')}")
    print(f"{'starting_balance':24} {metrics['starting_balance']}")
    print(f"{'finishing_balance':24} {metrics['finishing_balance']}")
    return 0


def _balance(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise _usage(f"--balance must be a number, not {text!r}") from None
    if not value.is_finite() or value <= 0:
        raise _usage(f"--balance must be a positive number, not {text!r}")
    return value


def _hp(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise _usage(f"--hp takes NAME=VALUE, not {text!r}")
    return name.strip(), value.strip()


def _usage(message: str) -> Exception:
    from tradesim.domain.errors import InvalidInput

    return InvalidInput(message)
