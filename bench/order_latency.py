"""Order placement over HTTP to execution push on the WebSocket, through real Redis and PostgreSQL.

For each api count (1 by default) and worker count (1, then 2), a fresh database and Redis
namespace get that many `tradesim api` and `tradesim worker` processes (the same harness as the
integration tests, `tests/support/realtime.py`), while a thread publishes BTCUSDT and ETHUSDT
tickers on Redis as the streamer would. Users are spread over the api processes, each user's
requests and socket on one (sticky, as behind the load balancer). A client process (aiohttp on
uvloop) opens one WebSocket per user (subscribed to `execution`)
and sends market orders at a fixed rate, open loop (each on its own schedule, never waiting for
the previous one), alternating BTCUSDT and ETHUSDT so that two workers share the load. Latency
is from just before the POST is written to the receipt of the execution push naming the order's
`orderLinkId`, both read on the client's clock. The first second of each run is warm-up and
not counted. The database starts with `--history` filled orders (20,000) and statistics, as a
running service's has: on an empty one, the worker's check for redelivered orders ran a plan
PostgreSQL had cached as a sequential scan while the table was empty (1 ms per batch by the end
of a 10-s run, by pg_stat_statements; production replans once autovacuum's statistics arrive).

Printed per run: orders sent, achieved rate, pushes received, p50/p90/p99/max latency in ms;
the p50 and p99 of its two legs (the POST's round trip, then its answer to the push); the CPU
time each kind of process used per order sent (read from /proc: api, workers, client, every
PostgreSQL process, redis-server; counted from the first order, not the processes' start-up);
the garbage collector's pauses of 1 ms or more in the api, the workers and the load generator
while measured (count per generation and longest: a pause stops a process's event loop, and
every order in flight there waits; logged by `bench/gc_probe/sitecustomize.py`, put on the
service's processes' PYTHONPATH and run by the load generator itself);
and the target (p99 under 25 ms at 500 orders/s) with PASS/FAIL. With several rates, the
highest one whose p99 stayed under 25 ms. Everything shares this machine's cores: the client,
the api, the workers, PostgreSQL and Redis.

    uv run python bench/order_latency.py                          # 100 and 500 orders/s, 1 and 2 workers
    uv run python bench/order_latency.py --rates 500 --workers 1 --apis 1 2
    uv run python bench/order_latency.py --rates 100 200 300 400 500 --workers 1   # where p99 stays < 25 ms
    uv run python bench/order_latency.py --rates 500 --workers 1 --profile /tmp/prof   # py-spy stacks
    uv run python bench/order_latency.py --smallest   # what the test suite runs: it works, figures mean nothing
    uv run python bench/order_latency.py --search --workers 1 2   # the highest rate with p99 < 25 ms

`--search` looks for the highest rate whose p99 stays under 25 ms (target: 800/s), per worker
count: rates from `--rates`' first upward by `--step` until a run misses (or `--max-rate`),
then halving the step between the last rate that made it and the first that missed, down to
`--resolution`. One run per rate: on a busy machine a rate near the edge may pass in one run
and fail in the next, so the figure is a run's, not a bound.

PostgreSQL: TRADESIM_BENCH_DATABASE_URL, else TRADESIM_TEST_DATABASE_URL, else the local server;
Redis: TRADESIM_TEST_REDIS_URL, else redis://127.0.0.1:6379/0.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the process harness lives with the tests

from tests import services  # noqa: E402
from tests.support.realtime import Stack, TickerPump, Trader, wait_for  # noqa: E402

from tradesim.adapters.sqlalchemy.database import Database  # noqa: E402
from tradesim.adapters.sqlalchemy.migrate import upgrade_to_head  # noqa: E402
from tradesim.adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork  # noqa: E402
from tradesim.domain import Order, OrderStatus, OrderType, Side, TimeInForce  # noqa: E402
from tradesim.entrypoints.roles import SERVER_GC  # noqa: E402

SYMBOLS = ("BTCUSDT", "ETHUSDT")
QTY = {"BTCUSDT": "0.001", "ETHUSDT": "0.01"}
USERS = 8
WARMUP_S = 1.0
TARGET_P99_MS = 25.0
TARGET_RATE = 500
#: The highest rate with p99 under target that --search is after, for one and for two workers.
SEARCH_TARGET = 800


def _cpu_ticks(pid: int, *, children: bool = False) -> int:
    """utime + stime; with `children`, plus those of its children that have ended (the
    postmaster's: PostgreSQL backends that closed during the run, and took their CPU with them)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    own = int(fields[11]) + int(fields[12])
    return own + int(fields[13]) + int(fields[14]) if children else own


def _pids_named(*names: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                comm = (entry / "comm").read_text().strip()
            except OSError:
                continue
            if comm in names:
                found.append(int(entry.name))
    return found


def _cpu_snapshot(roles: dict[str, list[int]]) -> dict[str, dict[int, int]]:
    return {role: {pid: _cpu_ticks(pid, children=role == "postgres") for pid in pids} for role, pids in roles.items()}


def _cpu_used(before: dict[str, dict[int, int]], roles: dict[str, list[int]]) -> dict[str, float]:
    """CPU seconds each role used since `before` (processes born meanwhile count from zero)."""
    tick = os.sysconf("SC_CLK_TCK")
    return {
        role: sum(_cpu_ticks(pid, children=role == "postgres") - before.get(role, {}).get(pid, 0) for pid in pids)
        / tick
        for role, pids in roles.items()
    }


def _gc_pauses(folder: Path, roles: dict[str, list[int]], since: float) -> dict[str, list[tuple[int, float]]]:
    """Each role's collector pauses logged after `since` (epoch seconds): (generation, ms)."""
    pauses: dict[str, list[tuple[int, float]]] = {}
    for role, pids in roles.items():
        found = pauses[role] = []
        for pid in pids:
            log = folder / f"gc-{pid}.log"
            for line in log.read_text().splitlines() if log.exists() else []:
                at, generation, pause_ms = line.split()
                if float(at) >= since:
                    found.append((int(generation), float(pause_ms)))
    return pauses


def _pauses_line(found: list[tuple[int, float]]) -> str:
    """'3 (generation 1: 2, 2: 1), longest 6.1 ms', or '0'."""
    if not found:
        return "0"
    per = {g: sum(1 for f, _ in found if f == g) for g in sorted({g for g, _ in found})}
    generations = ", ".join(f"{g}: {n}" for g, n in per.items())
    return f"{len(found)} (generation {generations}), longest {max(ms for _, ms in found):.1f} ms"


def _client(users: list[dict[str, str]], rate: int, duration: float, harness: Any, gc_log: str) -> None:
    """The load generator, in a process of its own so that it does not share the harness's loop.

    aiohttp on uvloop: the client shares the machine's two CPUs with everything it measures, so it
    should cost as little per request as it can. Once its sockets are open it says "ready" and
    waits for "go", so that the CPU counted per order starts with the load, not with start-up.
    Its collector's pauses are logged as the api's and the workers' are: a pause here delays the
    timestamps of every order in flight, and would be counted as the service's latency.
    """
    import runpy

    import uvloop

    os.environ["TRADESIM_BENCH_GC_LOG"] = gc_log
    runpy.run_path(str(ROOT / "bench" / "gc_probe" / "sitecustomize.py"))

    harness.send(uvloop.run(_load(users, rate, duration, harness)))


async def _load(users: list[dict[str, str]], rate: int, duration: float, harness: Any) -> dict[str, Any]:
    """Each user trades through the api process it was given (`base_url`), its socket included,
    as a load balancer with sticky sessions would route it."""
    import aiohttp

    sent_at: dict[str, float] = {}
    answered_at: dict[str, float] = {}
    pushed_at: dict[str, float] = {}
    refused: list[str] = []

    async def listen(ws: aiohttp.ClientWebSocketResponse) -> None:
        async for frame in ws:
            now = time.perf_counter()
            if frame.type is not aiohttp.WSMsgType.TEXT:
                continue
            message = json.loads(frame.data)
            if message.get("topic") == "execution":
                for execution in message["data"]:
                    pushed_at.setdefault(execution["orderLinkId"], now)

    sessions = {
        url: aiohttp.ClientSession(url, connector=aiohttp.TCPConnector(limit=64))
        for url in dict.fromkeys(u["base_url"] for u in users)
    }
    try:
        sockets = []
        listeners = []
        for user in users:
            ws = await sessions[user["base_url"]].ws_connect(f"/ws?token={user['token']}", compress=0)
            await ws.receive()  # auth
            await ws.send_str(json.dumps({"op": "subscribe", "args": ["execution"]}))
            await ws.receive()
            sockets.append(ws)
            listeners.append(asyncio.create_task(listen(ws)))
        headers = [{"Authorization": f"Bearer {user['token']}", "Content-Type": "application/json"} for user in users]
        # The sockets, sessions and users live for the whole run: out of the collector's sight,
        # its full collections stop rescanning them (one paused this client for 77 ms, which
        # every order in flight then showed as latency of the service).
        gc.collect()
        gc.freeze()
        # Young collections as rarely as the services' (SERVER_GC): at CPython's default the
        # client's own pauses (dozens per run, some of hundreds of ms on a busy machine) were
        # counted as the service's latency of every order in flight.
        gc.set_threshold(*SERVER_GC)
        harness.send("ready")
        await asyncio.get_running_loop().run_in_executor(None, harness.recv)  # "go"

        async def place(i: int) -> None:
            user = users[i % len(users)]
            symbol = SYMBOLS[i % len(SYMBOLS)]
            link = f"b{i}"
            body = {
                "accountId": user["account"],
                "symbol": symbol,
                "side": "Buy" if (i // len(SYMBOLS)) % 2 == 0 else "Sell",
                "orderType": "Market",
                "qty": QTY[symbol],
                "orderLinkId": link,
            }
            data = json.dumps(body).encode()
            sent_at[link] = time.perf_counter()
            async with sessions[user["base_url"]].post(
                "/api/v1/orders", data=data, headers=headers[i % len(users)]
            ) as answer:
                text = await answer.text()
                answered_at[link] = time.perf_counter()
                if answer.status != 201:
                    refused.append(f"{answer.status} {text[:200]}")

        total = int(rate * (duration + WARMUP_S))
        start = time.perf_counter()
        tasks = []
        for i in range(total):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(place(i)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - start
        # the last pushes are still on their way: give them up to 10 s
        for _ in range(200):
            if len(pushed_at) >= len(sent_at) - len(refused):
                break
            await asyncio.sleep(0.05)
        for task in listeners:
            task.cancel()
        for ws in sockets:
            await ws.close()
    finally:
        for session in sessions.values():
            await session.close()
    warm = int(rate * WARMUP_S)
    counted = [f"b{i}" for i in range(warm, total)]
    latencies = [(pushed_at[k] - sent_at[k]) * 1000 for k in counted if k in pushed_at]
    # The two legs: the POST's round trip (order recorded and queued), then its answer to the
    # push (the worker's fill, its commit, the api's forwarding). The push may overtake the
    # answer: that leg is then negative.
    answered = [(answered_at[k] - sent_at[k]) * 1000 for k in counted if k in answered_at]
    after = [(pushed_at[k] - answered_at[k]) * 1000 for k in counted if k in pushed_at and k in answered_at]
    return {
        "legs": {"POST answered": answered, "answer to push": after},
        "sent": total,
        "rate": total / elapsed,
        "counted": len(counted),
        "latencies": latencies,
        "missing": len(counted) - len(latencies),
        "refused": refused[:5],
        "refused_count": len(refused),
    }


async def _seed_history(database_url: str, accounts: list[str], count: int) -> None:
    """`count` filled orders of earlier trading on `accounts`, through the order repository, then
    ANALYZE: a running service's tables hold history and statistics. On an empty table a
    prepared statement's plan is cached as a sequential scan, which PostgreSQL keeps until
    statistics arrive (autovacuum's first round, within a minute), so every 10-s run would
    measure a lookup by order id growing to milliseconds that production does not have."""
    if not count:
        return
    database = Database(database_url)
    try:
        start = int(time.time() * 1000) - 86_400_000
        for first in range(0, count, 500):
            last = min(count, first + 500)
            orders = [_past_order(n, accounts[n % len(accounts)], start + n) for n in range(first, last)]
            async with SqlAlchemyUnitOfWork(database, single_statement=True) as uow:
                await uow.orders.add_new_many(orders)
        async with database.autocommit_engine.connect() as connection:
            await connection.exec_driver_sql("ANALYZE")
    finally:
        await database.dispose()


def _past_order(n: int, account_id: str, at: int) -> Order:
    symbol = SYMBOLS[n % len(SYMBOLS)]
    qty = Decimal(QTY[symbol])
    return Order(
        order_id=f"past-{n}",
        account_id=account_id,
        symbol=symbol,
        side=Side.BUY if n % 2 else Side.SELL,
        order_type=OrderType.MARKET,
        qty=qty,
        status=OrderStatus.FILLED,
        created_time=at,
        updated_time=at,
        time_in_force=TimeInForce.IOC,
        cum_exec_qty=qty,
        cum_exec_value=qty * 1000,
        cum_exec_fee=qty * Decimal("0.55"),
        accepted_time=at,
    )


def _profilers(targets: dict[str, list[int]], folder: Path | None, seconds: float) -> list[Any]:
    """`py-spy record` on each process for `seconds`, collapsed stacks into `folder` (None: no profiling)."""
    if folder is None:
        return []
    folder.mkdir(parents=True, exist_ok=True)
    spies = []
    for role, pids in targets.items():
        for pid in pids:
            out = folder / f"{role}-{pid}.txt"
            command = ["py-spy", "record", "--pid", str(pid), "--format", "raw", "--rate", "200"]
            command += ["--duration", str(int(seconds)), "--output", str(out), "--nonblocking"]
            spies.append(subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    return spies


def run(
    database_server: str,
    redis_url: str,
    workers: int,
    rate: int,
    duration: float,
    profile: Path | None = None,
    apis: int = 1,
    history: int = 0,
) -> dict[str, Any]:
    with services.fresh_postgres_database(database_server) as database_url, tempfile.TemporaryDirectory() as tmp:
        upgrade_to_head(database_url)
        stack = Stack(database_url, redis_url, Path(tmp))
        gc_log = Path(tmp) / "gc"
        gc_log.mkdir()
        probe = str(ROOT / "bench" / "gc_probe")
        stack.extra_env.update(
            PYTHONPATH=os.pathsep.join(filter(None, [probe, os.environ.get("PYTHONPATH")])),
            TRADESIM_BENCH_GC_LOG=str(gc_log),
        )
        try:
            with TickerPump(redis_url, stack.namespace, SYMBOLS, interval=0.1) as pump:
                api_processes = [stack.api() for _ in range(apis)]
                started = [stack.worker(wait_for_partitions=False) for _ in range(workers)]
                for worker in started:
                    wait_for(lambda w=worker: stack.partitions_of(w), 30, "the workers to own partitions")
                users = []
                for n in range(USERS):
                    base_url = api_processes[n % apis].base_url
                    trader = Trader(base_url, f"bench{n}@example.com")
                    account = trader.open_account(deposit="10000000")
                    users.append({"token": trader.token, "account": account, "base_url": base_url})
                    trader.close()
                asyncio.run(_seed_history(database_url, [u["account"] for u in users], history))
                wait_for(lambda: pump.sent >= 5, 10, "prices to flow")
                harness, client_end = mp.Pipe()
                load = (users, rate, duration, client_end, str(gc_log))
                client = mp.get_context("spawn").Process(target=_client, args=load)
                client.start()
                if not harness.poll(60):
                    raise AssertionError("the load generator did not open its sockets within 60 s")
                assert harness.recv() == "ready"
                roles = {
                    "api": [a.pid for a in api_processes],
                    "workers": [w.pid for w in started],
                    "client": [client.pid],
                    "postgres": _pids_named("postgres"),
                    "redis": _pids_named("redis-server"),
                }
                before = _cpu_snapshot(roles)
                spies = _profilers({"api": roles["api"], "worker": roles["workers"]}, profile, duration)
                harness.send("go")
                measured_from = time.time() + WARMUP_S
                result: dict[str, Any] = harness.recv()
                result["gc"] = _gc_pauses(gc_log, {r: roles[r] for r in ("api", "workers", "client")}, measured_from)
                roles["postgres"] = _pids_named("postgres")  # backends opened during the run
                result["cpu"] = _cpu_used(before, roles)
                for spy in spies:
                    spy.wait(30)
                client.join(30)
                owned = {w.pid: sorted(stack.partitions_of(w)) for w in started}
        finally:
            stack.stop_all()
    result["owned"] = owned
    return result


def report(apis: int, workers: int, rate: int, result: dict[str, Any]) -> bool:
    """Prints the run's figures; True when its p99 is under the target with nothing missing."""
    lat = sorted(result["latencies"])
    line = f"apis={apis} workers={workers} rate={rate}/s sent={result['sent']} achieved={result['rate']:.0f}/s "
    if not lat:
        print(line + f"no pushes received; refused={result['refused_count']} {result['refused']}")
        return False
    q = statistics.quantiles(lat, n=100, method="inclusive")
    print(
        line + f"pushes={len(lat)}/{result['counted']} p50={q[49]:.1f} ms p90={q[89]:.1f} ms "
        f"p99={q[98]:.1f} ms max={lat[-1]:.1f} ms missing={result['missing']} refused={result['refused_count']}"
    )
    legs = []
    for leg, values in result["legs"].items():
        if len(values) > 1:
            cut = statistics.quantiles(values, n=100, method="inclusive")
            legs.append(f"{leg} p50 {cut[49]:.1f} p99 {cut[98]:.1f}")
    print(f"    legs (ms): {'; '.join(legs)}")
    per_order = ", ".join(f"{role} {seconds * 1000 / result['sent']:.2f}" for role, seconds in result["cpu"].items())
    print(f"    CPU ms per order: {per_order}")
    pauses = "; ".join(f"{role} {_pauses_line(found)}" for role, found in result["gc"].items())
    print(f"    GC pauses >= 1 ms while measured: {pauses}")
    if result["refused_count"]:
        print(f"    refused, first ones: {result['refused']}")
    within = q[98] < TARGET_P99_MS and not result["missing"] and not result["refused_count"]
    if rate >= TARGET_RATE:
        verdict = "PASS" if within else "FAIL"
        print(f"    target p99 < {TARGET_P99_MS:.0f} ms at {TARGET_RATE}/s, nothing missing: {verdict}")
    return within


def search(
    server: str, redis_url: str, apis: int, workers: int, args: argparse.Namespace
) -> tuple[int | None, list[tuple[int, bool]]]:
    """The highest rate whose run met the p99 target (None: not even the first), and every run's
    (rate, met): step up until a run misses, then bisect between the last met and that one."""
    runs: list[tuple[int, bool]] = []

    def met(rate: int) -> bool:
        result = run(server, redis_url, workers, rate, args.duration, None, apis, args.history)
        within = report(apis, workers, rate, result)
        runs.append((rate, within))
        return within

    rate = args.rates[0]
    if not met(rate):
        return None, runs
    best, missed = rate, None
    while missed is None and rate < args.max_rate:
        rate = min(rate + args.step, args.max_rate)
        if met(rate):
            best = rate
        else:
            missed = rate
    while missed is not None and missed - best > args.resolution:
        middle = (best + missed) // 2
        if met(middle):
            best = middle
        else:
            missed = middle
    return best, runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rates", type=int, nargs="+", default=[100, 500], help="orders per second")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker processes")
    parser.add_argument(
        "--apis", type=int, nargs="+", default=[1], help="api processes (users spread over them, sticky)"
    )
    parser.add_argument("--duration", type=float, default=10.0, help="seconds measured per run (after warm-up)")
    parser.add_argument(
        "--history", type=int, default=20_000, help="filled orders the database holds before the run (0: empty)"
    )
    parser.add_argument("--profile", type=Path, help="folder for py-spy's collapsed stacks of the api and workers")
    parser.add_argument("--smallest", action="store_true", help="the smallest run, as the tests run it")
    parser.add_argument("--search", action="store_true", help="search for the highest rate with p99 under target")
    parser.add_argument("--step", type=int, default=100, help="--search: orders/s added per step up")
    parser.add_argument("--max-rate", type=int, default=1200, help="--search: the highest rate tried")
    parser.add_argument("--resolution", type=int, default=25, help="--search: stop bisecting within this many /s")
    args = parser.parse_args()
    if args.smallest:
        args.rates, args.workers, args.apis, args.duration, args.history = [20], [1], [1], 1.0, 0
    server = (
        os.environ.get("TRADESIM_BENCH_DATABASE_URL")
        or os.environ.get("TRADESIM_TEST_DATABASE_URL")
        or "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
    )
    redis_url = os.environ.get("TRADESIM_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    print(f"order placement -> execution push; {os.cpu_count()} CPUs; {args.duration:.0f} s per run")
    if args.search:
        for apis in args.apis:
            for workers in args.workers:
                best, runs = search(server, redis_url, apis, workers, args)
                tried = ", ".join(f"{rate}/s {'met' if ok else 'missed'}" for rate, ok in runs)
                found = f"{best}/s" if best is not None else f"none (from {args.rates[0]}/s)"
                print(f"apis={apis} workers={workers}: highest rate with p99 < {TARGET_P99_MS:.0f} ms: {found}")
                print(
                    f"    runs: {tried}; target {SEARCH_TARGET}/s: {'PASS' if (best or 0) >= SEARCH_TARGET else 'FAIL'}"
                )
        return
    for apis in args.apis:
        for workers in args.workers:
            within = []
            for rate in args.rates:
                profile = args.profile / f"a{apis}-w{workers}-r{rate}" if args.profile else None
                result = run(server, redis_url, workers, rate, args.duration, profile, apis, args.history)
                if report(apis, workers, rate, result):
                    within.append(rate)
            if len(args.rates) > 1:
                best = f"{max(within)}/s" if within else "none of the rates run"
                print(f"apis={apis} workers={workers}: highest rate with p99 < {TARGET_P99_MS:.0f} ms: {best}")


if __name__ == "__main__":
    main()
