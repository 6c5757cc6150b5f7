"""Benchmark of Jesse strategies on tradesim's engine (issue 18). Run: ``uv run python bench/strategies.py``.

Smallest configuration (well under a minute once Jesse is imported):
``uv run python bench/strategies.py --days 3 --deployments 100``.

(a) One backtest of ``--days`` (default 365) of synthetic 1m candles (a seeded random walk,
    `synthetic.random_walk_bars`) with the built-in ``SmaCross`` (defaults: SMA 10/30, a 2%
    stop-loss, 10% of the balance a trade) on the 1h and on the 1m timeframe: through
    `JesseStrategyRunner` (tradesim's engine in the loop, the bars played on Bar Replay's path),
    beside `jesse.research.backtest` of the same strategy class on the same candles, in the same
    process. Both get the same warm-up (240 bars of the timeframe). Target: tradesim's candles per
    CPU second at least Jesse's (ratio >= 1.0).
(b) N live deployments (``--deployments``, default 100 1000 5000) in this one process: each
    ``SmaCross`` on 1m on its own account, spread over ten synthetic symbols, warmed up on 60 bars,
    then fed 30 closed bars. For every minute: the time from the minute's bars arriving (the
    close) to the last decision, p50 and p99 over the 30 minutes; strategy executions per second;
    resident memory per deployment beyond what the process held after importing Jesse.
    Targets on a 2-core machine: 1,000 within 1 s (p99), 5,000 within 5 s, at most 300 KB each.

Wall-clock figures move with whatever else runs on the machine; CPU time is printed beside them
and is the figure the ratios use. Everything is seeded: trade counts repeat on every run.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import multiprocessing
import os
import sys
import time
from array import array
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np

from synthetic import MINUTE_MS, SYNTHETIC_SPECS, YEAR_START_MS, IntBars, random_walk_bars, synthetic_catalog
from tradesim.domain import ManualClock, MatchingEngine, SequentialIds, default_catalog
from tradesim.domain.bars import DAY_MS, DayBars, day_of
from tradesim.ports.strategies import StrategyJob

SYMBOL = "BTCUSDT"
SCALE = 1  # BTCUSDT's tick is 0.1: prices are counted in tenths
WARMUP = 240
FEE = 0.00055  # BTCUSDT's taker rate: Jesse charges it on every fill, the engine on market fills


def rss_kb() -> int:
    with open(f"/proc/{os.getpid()}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class IntBarStore:
    """`CandleStore.read_bars` over integer bars held in memory (the Parquet read is not what is measured)."""

    def __init__(self, bars: IntBars) -> None:
        self._days: dict[date, DayBars] = {}
        start = 0
        while start < len(bars):
            day = day_of(bars.open_time[start])
            stop = start
            while stop < len(bars) and day_of(bars.open_time[stop]) == day:
                stop += 1
            columns = [array("q", getattr(bars, name)[start:stop]) for name in ("open_time", "open", "high", "low")]
            close = array("q", bars.close[start:stop])
            volume = array("q", bars.volume[start:stop])
            self._days[day] = DayBars(SYMBOL, day, *columns, close, volume, price_scale=SCALE, volume_scale=0)
            start = stop

    async def read_bars(self, symbol: str, days: Sequence[date]) -> list[DayBars | None]:
        return [self._days.get(day) for day in days]


def part_a(days: int) -> None:
    from jesse import research

    from tradesim.adapters.jesse import state as jesse_state
    from tradesim.adapters.jesse.backtest import JesseStrategyRunner
    from tradesim.adapters.jesse.catalogue import StrategyCatalogue
    from tradesim.adapters.jesse.grid import EXCHANGE

    catalogue = StrategyCatalogue()
    sma = catalogue.get("SmaCross").strategy
    print(f"(a) one backtest of {days} days of 1m candles, SmaCross (defaults), balance 10000, leverage 1")
    print(
        f"    {'timeframe':>9} {'who':>8} {'candles':>9} {'wall s':>8} {'cpu s':>8} {'candles/cpu s':>14} {'trades':>7}"
    )
    for timeframe, minutes in (("1h", 60), ("1m", 1)):
        warm = WARMUP * minutes
        bars = random_walk_bars(warm + days * 1440, seed=18, start_ms=YEAR_START_MS - warm * MINUTE_MS)
        runner = JesseStrategyRunner(catalogue, IntBarStore(bars), default_catalog(), warmup_candles=WARMUP)  # type: ignore[arg-type]
        job = StrategyJob(
            "bench",
            "SmaCross",
            SYMBOL,
            YEAR_START_MS,
            YEAR_START_MS + days * DAY_MS,
            Decimal(10000),
            timeframe=timeframe,
        )
        gc.collect()
        cpu, wall = time.process_time(), time.perf_counter()
        result = asyncio.run(runner.run(job))
        ours_cpu, ours_wall = time.process_time() - cpu, time.perf_counter() - wall
        trading = days * 1440
        print(
            f"    {timeframe:>9} {'tradesim':>8} {trading:>9} {ours_wall:>8.2f} {ours_cpu:>8.2f}"
            f" {trading / ours_cpu:>14,.0f} {len(result.trades):>7}"
        )

        rows = np.column_stack(
            [
                np.asarray(bars.open_time, dtype=np.float64),
                *(np.asarray(getattr(bars, n), dtype=np.float64) / 10**SCALE for n in ("open", "close", "high", "low")),
                np.asarray(bars.volume, dtype=np.float64),
            ]
        )
        jesse_state.release()
        key = f"{EXCHANGE}-BTC-USDT"
        config = {
            "starting_balance": 10000,
            "fee": FEE,
            "type": "futures",
            "futures_leverage": 1,
            "futures_leverage_mode": "cross",
            "exchange": EXCHANGE,
            "warm_up_candles": WARMUP,
        }
        routes = [{"exchange": EXCHANGE, "strategy": sma, "symbol": "BTC-USDT", "timeframe": timeframe}]
        candles = {key: {"exchange": EXCHANGE, "symbol": "BTC-USDT", "candles": rows[warm:]}}
        warmup = {key: {"exchange": EXCHANGE, "symbol": "BTC-USDT", "candles": rows[:warm]}}
        gc.collect()
        cpu, wall = time.process_time(), time.perf_counter()
        theirs = research.backtest(config, routes, [], candles, warmup)
        jesse_cpu, jesse_wall = time.process_time() - cpu, time.perf_counter() - wall
        print(
            f"    {timeframe:>9} {'jesse':>8} {trading:>9} {jesse_wall:>8.2f} {jesse_cpu:>8.2f}"
            f" {trading / jesse_cpu:>14,.0f} {int(theirs['metrics'].get('total', 0)):>7}"
        )
        ratio = jesse_cpu / ours_cpu
        verdict = "met" if ratio >= 1.0 else "MISSED"
        print(f"    {timeframe:>9} ratio tradesim/jesse speed (by CPU) {ratio:.2f} (target >= 1.0: {verdict})")


def part_b(counts: Sequence[int]) -> None:
    warm, feed = 60, 30
    print(f"(b) N deployments (SmaCross on 1m, own account each, 10 symbols) fed {feed} closed bars, one process per N")
    print("    latency: from a minute's bars arriving to the last decision; wall clock, then CPU time of the process")
    head = f"{'N':>6} {'p50 ms':>9} {'p99 ms':>9} {'cpu p50':>8} {'cpu p99':>8} {'exec/s':>9} {'exec/cpu s':>11}"
    print(f"    {head} {'KB each':>8}  targets (p99 by wall clock; by CPU in brackets)")
    spawn = multiprocessing.get_context("spawn")
    for count in counts:
        with spawn.Pool(1) as pool:
            row = pool.apply(deployments, (count, warm, feed))
        p50, p99, per_kb = row["p50"], row["p99"], row["per_kb"]
        limit = {1000: 1.0, 5000: 5.0}.get(count)
        verdicts = []
        if limit:
            by_cpu = "met" if row["cpu_p99"] <= limit else "MISSED"
            verdicts.append(f"p99 <= {limit:g} s: {'met' if p99 <= limit else 'MISSED'} ({by_cpu})")
        verdicts.append(f"<= 300 KB: {'met' if per_kb <= 300 else 'MISSED'}")
        print(
            f"    {count:>6} {p50 * 1000:>9.1f} {p99 * 1000:>9.1f} {row['cpu_p50'] * 1000:>8.1f}"
            f" {row['cpu_p99'] * 1000:>8.1f} {row['executions'] / row['wall']:>9,.0f}"
            f" {row['executions'] / row['cpu']:>11,.0f} {per_kb:>8.0f}  {'; '.join(verdicts)}"
        )
        if row["failed"]:
            print(f"           {row['failed']} contexts failed, e.g. {row['error']}")


def deployments(count: int, warm: int, feed: int) -> dict[str, Any]:
    """In a fresh process: `count` deployments warmed up on `warm` bars, then `feed` bars timed."""
    import jesse.strategies  # noqa: F401

    from tradesim.adapters.jesse.catalogue import StrategyCatalogue
    from tradesim.adapters.jesse.runtime import JesseRuntime
    from tradesim.adapters.jesse.spec import ContextSpec

    sma = StrategyCatalogue().get("SmaCross").strategy
    catalog = synthetic_catalog()
    symbols = [spec[0] for spec in SYNTHETIC_SPECS]
    start = YEAR_START_MS - warm * MINUTE_MS
    series = {
        s: random_walk_bars(warm + feed, seed=100 + n, start_ms=start, start_ticks=1_000_000)
        for n, s in enumerate(symbols)
    }
    ticks = {s: catalog.get(s).tick_size for s in symbols}
    warm_rows = {}
    for s in symbols:
        b, tick = series[s], float(ticks[s])
        columns = [b.open_time, [p * tick for p in b.open], [p * tick for p in b.close]]
        columns += [[p * tick for p in b.high], [p * tick for p in b.low], b.volume]
        warm_rows[s] = np.array(columns, dtype=np.float64).T[:warm].copy()
    clock = ManualClock(YEAR_START_MS)
    engine = MatchingEngine(catalog, clock, ids=SequentialIds("dep"))
    runtime = JesseRuntime(engine, clock, catalog)
    gc.collect()
    base = rss_kb()
    # Half the balance a trade: the dearest synthetic symbol trades in steps of 0.0001 at 1,000,000 USDT.
    hps = {"size_percent": 50.0}
    for n in range(count):
        account = f"dep{n}"
        symbol = symbols[n % len(symbols)]
        engine.open_account(account, Decimal(10000))
        spec = ContextSpec(account, sma, "SmaCross", account, symbol, "1m", Decimal(10000), 1, hps, warmup_candles=warm)
        runtime.add(spec, start_ms=YEAR_START_MS, warmup=warm_rows[symbol])
    gc.collect()
    per_kb = (rss_kb() - base) / count
    latencies, cpu_latencies, executions = [], [], 0
    cpu = time.process_time()
    for minute in range(warm, warm + feed):
        arrived, arrived_cpu = time.perf_counter(), time.process_time()
        for s in symbols:
            b, tick = series[s], ticks[s]
            prices = (b.open[minute] * tick, b.high[minute] * tick, b.low[minute] * tick, b.close[minute] * tick)
            executions += len(runtime.on_bar(s, b.open_time[minute], prices, Decimal(b.volume[minute])))
        latencies.append(time.perf_counter() - arrived)
        cpu_latencies.append(time.process_time() - arrived_cpu)
    cpu = time.process_time() - cpu
    return {
        "p50": _percentile(latencies, 50),
        "p99": _percentile(latencies, 99),
        "cpu_p50": _percentile(cpu_latencies, 50),
        "cpu_p99": _percentile(cpu_latencies, 99),
        "executions": executions,
        "wall": sum(latencies),
        "cpu": cpu,
        "per_kb": per_kb,
        "failed": len(runtime.failed),
        "error": next(iter(runtime.failed.values()), ""),
    }


def _percentile(values: list[float], q: int) -> float:
    """Nearest-rank percentile (with 30 samples, p99 is the largest)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, -(-q * len(ordered) // 100) - 1))]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--days", type=int, default=365, help="days of 1m candles in part (a) (default 365)")
    parser.add_argument(
        "--deployments", type=int, nargs="+", default=[100, 1000, 5000], help="N of part (b) (default 100 1000 5000)"
    )
    parser.add_argument("--part", choices=("a", "b"), help="run only part (a) or part (b)")
    parser.add_argument("--smallest", action="store_true", help="the test suite's run: 3 days, 100 deployments")
    args = parser.parse_args(argv)
    if args.smallest:
        args.days, args.deployments = 3, [100]
    before = rss_kb()
    started = time.perf_counter()
    import jesse.strategies  # noqa: F401  (the import every worker pays once)

    print(f"jesse imported in {time.perf_counter() - started:.1f} s, +{(rss_kb() - before) / 1024:.0f} MB RSS")
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs; python {sys.version.split()[0]}")
    if args.part in (None, "b"):
        part_b(args.deployments)
    if args.part in (None, "a"):
        part_a(args.days)
    return 0


if __name__ == "__main__":
    sys.exit(main())
