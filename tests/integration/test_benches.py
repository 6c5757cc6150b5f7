"""Every benchmark in `bench/` still runs: its smallest configuration, as a subprocess.

A benchmark nobody runs rots unnoticed (one did, for months). This runs each script's smallest
configuration and checks that it exits 0 and prints its table: the header and a row per
measurement, each with numbers in it. It never looks at what the numbers are, nor at PASS/FAIL
verdicts (the smallest runs judge nothing). The bench modules that are parts of others
(`naive_engine`, `sma_*`, `synthetic`, `tick_workload`) run inside them. bench/engine.py has no
smallest run of its own yet: its quick part (a) runs, and its exit status 1 (a missed target) is
accepted.

Only the script's standard output is searched for a traceback: a server it runs may log on
standard error (hypercorn logs a cancelled connection task's traceback on Python 3.11).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import attrs
import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
NUMBER = r"[\d,]+(?:\.\d+)?"


@attrs.frozen
class Bench:
    script: str
    args: tuple[str, ...]
    #: Lines the output must have (regular expressions, each matching some whole line).
    lines: tuple[str, ...]
    services: bool = True
    exits: tuple[int, ...] = (0,)


BENCHES = [
    Bench(
        "api_reads.py",
        ("--smallest",),
        (
            r"api reads, CPU ms per request .*",
            r"request\s+single-statement\s+transactional \(baseline\)",
            *(rf"GET {re.escape(r)}\s+{NUMBER}\s+{NUMBER}" for r in ("/orders/{id}", "/orders (20)", "/healthz")),
        ),
    ),
    Bench(
        "bybit_api.py",
        ("--smallest",),
        (
            r"order -> execution push, /api/v1 \+ /ws beside ccxt \+ /v5/private; .*",
            *(
                rf"{re.escape(path)}\s+20/s: {NUMBER} orders, .* p50 {NUMBER} ms, p99 {NUMBER} ms, .*"
                for path in ("/api/v1 + /ws", "ccxt + /v5/private", "signed HTTP + /v5/private")
            ),
            rf"ccxt \+ /v5/private vs /api/v1 \+ /ws: p50 x{NUMBER}, p99 x{NUMBER} .*",
        ),
    ),
    Bench(
        "db.py",
        ("--smallest",),
        (
            r"\[memory \(baseline\)\]",
            r"\[sqlite \(file, WAL\)\]",
            r"\[postgresql \(asyncpg\)\]",
            rf"\s+fills persisted, one stream:\s+{NUMBER} fills/s .*",
            rf"\s+read 1 days of 1m candles for a symbol \(1440 rows as Candle records\): best {NUMBER} ms.*",
        ),
    ),
    Bench(
        # bench/engine.py's own options (its owner may add a smaller one): part (a) of its quick run.
        "engine.py",
        ("--quick", "--part", "a"),
        (
            r"\s+resting\s+engine ticks\s+ticks/s.*",
            rf"\s+1,000\s+{NUMBER}\s+{NUMBER}\s.*",
            rf"\s+100,000\s+{NUMBER}\s+{NUMBER}\s.*",
            r"total wall time .*",
        ),
        services=False,
        exits=(0, 1),
    ),
    Bench(
        "instructions.py",
        ("--smallest",),
        (
            r"instructions per operation \(--smallest: one run each, not counted\)",
            *(
                rf"{w}\s+not counted"
                for w in ("order POST", "/v5 order/create over HTTP", "worker batch", "worker handle_batch")
            ),
        ),
    ),
    Bench(
        "order_latency.py",
        ("--smallest",),
        (
            r"order placement -> execution push; .*",
            rf"apis=1 workers=1 rate=20/s sent={NUMBER} achieved={NUMBER}/s .* p99={NUMBER} ms .*",
            rf"\s+CPU ms per order: api {NUMBER}, workers {NUMBER}, .*",
        ),
    ),
    Bench(
        "replay.py",
        ("--smallest",),
        (
            r"load 3 days \(4,320 bars, 3 files\) into a replay's cache, cold cache each run",
            rf"\s+local folder\s+best\s+{NUMBER} ms\s+median\s+{NUMBER} ms .*",
            rf"\s+S3 \(moto, loopback\)\s+best\s+{NUMBER} ms.*",
            rf"\s+PostgreSQL rows\s+best\s+{NUMBER} ms.*",
            rf"\s+100 resting orders\s+best\s+{NUMBER} bars/s.*",
        ),
    ),
    Bench(
        "strategies.py",
        ("--smallest",),
        (
            rf"jesse imported in {NUMBER} s, .*",
            rf"\s+100\s+{NUMBER}\s+{NUMBER}\s+{NUMBER}\s+{NUMBER}\s+{NUMBER}\s+{NUMBER}\s+{NUMBER}\s+.*",
            *(rf"\s+{tf} ratio tradesim/jesse speed \(by CPU\) {NUMBER} .*" for tf in ("1h", "1m")),
        ),
        services=False,
    ),
    Bench(
        "streamer.py",
        ("--smallest",),
        (r".*parse \+ normalise.*", rf".*{NUMBER} messages/s.*"),
    ),
    Bench(
        "web_client.py",
        ("--smallest",),
        (
            rf"\s+time to first chart\s+{NUMBER} ms",
            rf"\s+bytes transferred\s+{NUMBER} KB .*",
            rf"\s+bars received {NUMBER} \({NUMBER}/s\), drawn {NUMBER}; .*",
            rf"\s+frames/s {NUMBER} \(idle {NUMBER}\); .*",
        ),
        services=False,
    ),
    Bench(
        "ws_fanout.py",
        ("--smallest",),
        (
            rf"bare\s+20 clients: held\s+20, connected in\s+{NUMBER} s,\s+{NUMBER} frames/s delivered .*",
            rf"\s*api\s+20 clients: held\s+20, connected in\s+{NUMBER} s,\s+{NUMBER} frames/s delivered .*",
            r"targets:",
            r"\s+info\s+20 clients: api frames/s .*",
        ),
        services=False,
    ),
]


@pytest.mark.parametrize("bench", BENCHES, ids=[b.script for b in BENCHES])
def test_the_smallest_configuration_runs_and_prints_its_table(bench: Bench, request: pytest.FixtureRequest) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADESIM_")}
    if bench.services:
        env["TRADESIM_TEST_DATABASE_URL"] = request.getfixturevalue("postgres_server")
        env["TRADESIM_TEST_REDIS_URL"] = request.getfixturevalue("redis_url")
    run = subprocess.run(
        [sys.executable, str(ROOT / "bench" / bench.script), *bench.args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    output = run.stdout + run.stderr
    assert run.returncode in bench.exits, f"{bench.script} exited {run.returncode}:\n{output[-4000:]}"
    assert "Traceback" not in run.stdout, output[-4000:]
    lines = run.stdout.splitlines()
    missing = [pattern for pattern in bench.lines if not any(re.fullmatch(pattern, line) for line in lines)]
    assert not missing, f"{bench.script} did not print lines matching {missing}:\n{run.stdout[-4000:]}"
