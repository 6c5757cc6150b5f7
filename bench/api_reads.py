"""CPU per request of the api's reads of one kind of record, in-process, on real PostgreSQL.

    uv run python bench/api_reads.py [--requests 2000]
    uv run python bench/api_reads.py --smallest   # what the test suite runs: it works, figures mean nothing

The app is the api's own (`create_app` on the composition root, real PostgreSQL, the in-memory
bus), driven by Quart's test client in this process, so that what is counted is the api's work
(routing, hooks, validation, the unit of work, the statements, presentation) and not a load
generator's or hypercorn's. CPU is `time.process_time` over N requests:

- GET /api/v1/orders/{orderId}, one order of the caller's;
- GET /api/v1/orders?accountId=...&limit=20, a page of 20;
- GET /api/v1/positions?accountId=..., the account's open position;
- GET /api/v1/executions?accountId=...&limit=20, its fills (5 of them);
- GET /healthz, the floor: a request that does nothing.

Each read is measured twice in the same run: through the single-statement unit of work (each
statement commits on its own: one round trip for a statement) and, as the baseline, through the
transactional one (BEGIN, the statements, ROLLBACK), which these reads used before.
Rounds alternate and the median of 3 decides, as this machine's CPUs are shared.

PostgreSQL: TRADESIM_BENCH_DATABASE_URL, else TRADESIM_TEST_DATABASE_URL, else the local server.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from dependency_injector import providers

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the api's test helpers live with the tests

from tests import services  # noqa: E402
from tests.unit.http.conftest import Api, api_container, running_api  # noqa: E402

from tradesim.adapters.memory.clock import FixedClock  # noqa: E402
from tradesim.adapters.sqlalchemy.migrate import upgrade_to_head  # noqa: E402
from tradesim.entrypoints.http.app import ApiOptions  # noqa: E402
from tradesim.entrypoints.http.observability import configure_logging  # noqa: E402

T0 = 1_700_000_000_000
ORDERS = 50
FILLS = 5


async def _per_request_ms(api: Api, path: str, headers: dict[str, str], n: int) -> float:
    started = time.process_time()
    for _ in range(n):
        response = await api.client.get(path, headers=headers)
        assert response.status_code == 200, await response.get_data()
    return (time.process_time() - started) / n * 1000


async def _measure(database_url: str, folder: Path, *, transactional_reads: bool, n: int) -> dict[str, float]:
    clock = FixedClock(T0)
    container = api_container(folder, clock=clock, database_url=database_url)
    container.core.ids.override(providers.Object(lambda: uuid.uuid4().hex))  # rounds share the database
    if transactional_reads:
        persistence: Any = container.persistence
        persistence.single_statement_unit_of_work.override(persistence.unit_of_work)
    async with running_api(container, clock, ApiOptions(rate_limits=False)) as api:
        headers = await api.user(f"reads-{uuid.uuid4().hex}@example.com")
        account = (await api.account(headers, balance="100000000"))["accountId"]
        await api.tick(last="30000.0")
        ids = []
        for i in range(ORDERS):
            body = {"accountId": account, "symbol": "BTCUSDT", "side": "Buy", "orderType": "Limit"}
            body |= {"price": "20000", "qty": "0.010", "orderLinkId": f"r{i}"}
            placed = await api.client.post("/api/v1/orders", json=body, headers=headers)
            ids.append((await placed.get_json())["orderId"])
        for i in range(FILLS):
            body = {"accountId": account, "symbol": "BTCUSDT", "side": "Buy", "orderType": "Market"}
            body |= {"qty": "0.010", "orderLinkId": f"m{i}"}
            placed = await api.client.post("/api/v1/orders", json=body, headers=headers)
            assert placed.status_code == 201, await placed.get_data()
        await api.drain()  # the worker's part, in this process: the market orders fill
        await _per_request_ms(api, f"/api/v1/orders/{ids[0]}", headers, 100)  # warm-up
        one = 0.0
        for i in range(n):
            one += await _per_request_ms(api, f"/api/v1/orders/{ids[i % ORDERS]}", headers, 1)
        page = f"/api/v1/orders?accountId={account}&limit=20"
        fills = f"/api/v1/executions?accountId={account}&limit=20"
        return {
            "GET /orders/{id}": one / n,
            "GET /orders (20)": await _per_request_ms(api, page, headers, n // 4),
            "GET /positions": await _per_request_ms(api, f"/api/v1/positions?accountId={account}", headers, n),
            "GET /executions (5)": await _per_request_ms(api, fills, headers, n),
            "GET /healthz": await _per_request_ms(api, "/healthz", {}, n),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000, help="requests per read and round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each variant (the median decides)")
    parser.add_argument("--smallest", action="store_true", help="the smallest run, as the tests run it")
    args = parser.parse_args()
    if args.smallest:
        args.requests, args.rounds = 8, 1
    server = (
        os.environ.get("TRADESIM_BENCH_DATABASE_URL")
        or os.environ.get("TRADESIM_TEST_DATABASE_URL")
        or "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
    )
    figures: dict[bool, list[dict[str, float]]] = {False: [], True: []}
    with (
        services.fresh_postgres_database(server) as database_url,
        tempfile.TemporaryDirectory() as tmp,
        open(os.devnull, "w") as sink,
        contextlib.redirect_stdout(sink),
    ):
        configure_logging()  # as `tradesim api` does: a JSON line per request, here to /dev/null
        upgrade_to_head(database_url)
        for round_ in range(args.rounds):
            for transactional in (True, False):
                folder = Path(tmp) / f"{round_}-{transactional}"
                figures[transactional].append(
                    asyncio.run(_measure(database_url, folder, transactional_reads=transactional, n=args.requests))
                )
    print(f"api reads, CPU ms per request (in-process, real PostgreSQL; median of {args.rounds} rounds)")
    print(f"{'request':<20} {'single-statement':>17} {'transactional (baseline)':>25}")
    for name in figures[False][0]:
        single = statistics.median(r[name] for r in figures[False])
        transactional = statistics.median(r[name] for r in figures[True])
        print(f"{name:<20} {single:>17.3f} {transactional:>25.3f}")


if __name__ == "__main__":
    main()
