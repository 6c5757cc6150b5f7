"""Instructions per operation on the hot paths, counted by valgrind's callgrind.

    uv run python bench/instructions.py [--small 20 --large 220] [--workload NAME ...]
    uv run python bench/instructions.py --smallest   # what the test suite runs (see below)

`--smallest` runs each workload once, for one operation, without callgrind (under it,
starting Python alone takes minutes): the workloads still work against today's code, and the
table says they were not counted.

This machine's CPU time per operation moves by 10% from one hour to the next; an instruction
count does not (the same code, inputs and environment count the same, whatever else runs). Each
workload runs in a child process under `valgrind --tool=callgrind` twice, `--small` and
`--large` times, and the difference divided by the difference of the counts is the cost of one
operation (the process's start-up cancels out). Only this process's instructions count:
PostgreSQL's work is another process's.

- `order POST`: POST /api/v1/orders in-process (the api's app on the composition root, Quart's
  test client, real PostgreSQL, the in-memory bus): routing, hooks, validation, the order's
  INSERT and unit of work, presentation. One order at a time, so each is its own batch.
- `order POST over HTTP`: the same POST through the api's real HTTP server (hypercorn with
  `hypercorn_config`, on uvloop as `tradesim api` runs it) from a bare socket client in the same
  process (pre-encoded requests, keep-alive): adds the HTTP parsing and writing, the ASGI
  glue and the event loop to `order POST`.
- `/v5 order/create over HTTP`: the same order through the Bybit-compatible api, as a bot sends
  it: POST /v5/order/create signed with an API key (Bybit's signature, window, the key's limit,
  the envelope), on the same server and client.
- `worker batch`: what a worker does with a batch of four market orders: the engine's fills,
  then the outcome recorded in a single-statement unit of work (one statement).
- `worker handle_batch`: a worker's batch of one market order (the usual size with two
  workers at 500/s) through `EngineService.handle_batch` as the composition root wires it:
  the batch's reads, the engine, the outcome's write, the publish on Redis.

Needs valgrind on PATH, PostgreSQL (TRADESIM_BENCH_DATABASE_URL, else
TRADESIM_TEST_DATABASE_URL, else the local server) and, for `worker handle_batch`, Redis
(TRADESIM_TEST_REDIS_URL, else the local server). A run takes a few minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import os
import re
import socket
import subprocess
import sys
import tempfile
import uuid
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the api's test helpers live with the tests

T0 = 1_700_000_000_000


async def _order_posts(database_url: str, count: int) -> None:
    from dependency_injector import providers
    from tests.unit.http.conftest import api_container, running_api

    from tradesim.adapters.memory.clock import FixedClock
    from tradesim.entrypoints.http.app import ApiOptions

    with tempfile.TemporaryDirectory() as tmp:
        clock = FixedClock(T0)
        container = api_container(Path(tmp), clock=clock, database_url=database_url)
        container.core.ids.override(providers.Object(lambda: uuid.uuid4().hex))
        async with running_api(container, clock, ApiOptions()) as api:
            headers = await api.user(f"bench-{uuid.uuid4().hex}@example.com")
            account = (await api.account(headers, balance="100000000"))["accountId"]
            await api.tick(last="30000.0")
            for n in range(count):
                body = {"accountId": account, "symbol": "BTCUSDT", "side": "Buy", "orderType": "Limit"}
                body |= {"price": "20000", "qty": "0.010", "orderLinkId": f"i{n}"}
                answer = await api.client.post("/api/v1/orders", json=body, headers=headers)
                assert answer.status_code == 201, await answer.get_data()


async def _order_posts_over_http(database_url: str, count: int, *, bybit: bool = False) -> None:
    import hashlib
    import hmac
    import json

    import attrs
    from dependency_injector import providers
    from hypercorn.asyncio import serve
    from tests.unit.http.conftest import api_container

    from tradesim.adapters.memory.clock import FixedClock
    from tradesim.domain import Ticker
    from tradesim.entrypoints.http.app import WIRED_MODULES, ApiOptions, create_app
    from tradesim.entrypoints.http.server import hypercorn_config

    streams: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def call(request: bytes, expect: int) -> dict[str, object]:
        if not streams:
            streams.append(await asyncio.open_connection("127.0.0.1", port))
        reader, writer = streams[0]
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        lines = head.lower().split(b"\r\n")
        length = next(int(line[15:]) for line in lines if line.startswith(b"content-length:"))
        body = await reader.readexactly(length)
        assert status == expect, body
        if b"connection: close" in lines:  # hypercorn's keep_alive_max_requests: a client reconnects
            writer.close()
            streams.clear()
        answer: dict[str, object] = json.loads(body)
        return answer

    def post(path: str, body: dict[str, str], token: str = "", extra: str = "") -> bytes:
        data = json.dumps(body).encode()
        auth = f"Authorization: Bearer {token}\r\n" if token else ""
        head = f"POST {path} HTTP/1.1\r\nHost: bench\r\n{auth}{extra}Content-Type: application/json\r\n"
        return head.encode() + f"Content-Length: {len(data)}\r\n\r\n".encode() + data

    def signed(path: str, body: dict[str, str], key: dict[str, object]) -> bytes:
        """A POST signed as Bybit's clients sign one (the fixed clock's time: inside the window)."""
        data, stamp = json.dumps(body), str(T0)
        message = (stamp + str(key["apiKey"]) + "5000" + data).encode()
        signature = hmac.new(str(key["apiSecret"]).encode(), message, hashlib.sha256).hexdigest()
        extra = f"X-BAPI-API-KEY: {key['apiKey']}\r\nX-BAPI-TIMESTAMP: {stamp}\r\n"
        extra += f"X-BAPI-RECV-WINDOW: 5000\r\nX-BAPI-SIGN: {signature}\r\n"
        return post(path, body, extra=extra)

    with tempfile.TemporaryDirectory() as tmp:
        clock = FixedClock(T0)
        container = api_container(Path(tmp), clock=clock, database_url=database_url)
        container.core.ids.override(providers.Object(lambda: uuid.uuid4().hex))
        settings = container.settings()
        if bybit:  # the fixed clock keeps every order in one second: a key's limit above them all
            settings = attrs.evolve(settings, bybit_rate_limit=1_000_000)
            container.settings.override(providers.Object(settings))
        container.wire(modules=list(WIRED_MODULES))  # as the process does (`routes_wired`)
        await container.init_resources()  # type: ignore[misc]
        app = create_app(container, ApiOptions())
        stop = asyncio.Event()
        config = hypercorn_config(settings)
        with socket.socket() as probe:  # a free port
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        config.bind = [f"127.0.0.1:{port}"]
        config.errorlog = None
        server = asyncio.create_task(serve(app, config, shutdown_trigger=stop.wait))  # type: ignore[arg-type]
        tickers = container.api.tickers()
        price = Decimal("30000.0")
        ticker = Ticker.of("BTCUSDT", last=price, bid=price - Decimal("0.1"), ask=price, ts=T0)
        while tickers.last_price("BTCUSDT") is None:  # the app is serving once its price pump takes tickers
            await container.messaging.price_bus().publish(ticker)
            await asyncio.sleep(0.01)
        email = f"bench-{uuid.uuid4().hex}@example.com"
        await call(post("/api/v1/auth/register", {"email": email, "password": "correct horse"}), 201)
        login = await call(post("/api/v1/auth/login", {"email": email, "password": "correct horse"}), 200)
        token = str(login["accessToken"])
        account = await call(post("/api/v1/accounts", {"name": "Main", "startingBalance": "100000000"}, token), 201)
        if bybit:
            key = await call(post("/api/v1/api-keys", {"accountId": str(account["accountId"])}, token), 201)
        for n in range(count):
            if bybit:
                body = {"category": "linear", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Limit"}
                body |= {"price": "20000", "qty": "0.010", "orderLinkId": f"b{n}"}
                answer = await call(signed("/v5/order/create", body, key), 200)
                assert answer["retCode"] == 0, answer
                continue
            body = {"accountId": str(account["accountId"]), "symbol": "BTCUSDT", "side": "Buy", "orderType": "Limit"}
            body |= {"price": "20000", "qty": "0.010", "orderLinkId": f"h{n}"}
            await call(post("/api/v1/orders", body, token), 201)
        for _, writer in streams:
            writer.close()
        stop.set()
        await server
        container.unwire()
        await container.persistence.database().dispose()


async def _worker_batches(database_url: str, count: int) -> None:
    from tradesim.adapters.sqlalchemy.database import Database
    from tradesim.adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
    from tradesim.application.persistence import record_events
    from tradesim.domain import MatchingEngine, OrderType, PlaceOrder, Side, Ticker, default_catalog

    tag = uuid.uuid4().hex[:8]
    names = (f"{tag}-{n}" for n in range(10**9))
    engine = MatchingEngine(default_catalog(), clock=lambda: T0, ids=lambda: next(names))
    accounts = [f"acc-{tag}-{n}" for n in range(8)]
    database = Database(database_url)
    try:
        async with SqlAlchemyUnitOfWork(database) as uow:
            for account in accounts:
                await record_events(uow, engine.open_account(account, Decimal("100000")))
            await uow.commit()
        price = Decimal("30000.0")
        engine.on_ticker(Ticker.of("BTCUSDT", last=price, bid=price - Decimal("0.1"), ask=price, ts=T0))
        placed = 0
        for _ in range(count):
            events = []
            for _ in range(4):
                side = Side.BUY if (placed // len(accounts)) % 2 == 0 else Side.SELL
                order = PlaceOrder(
                    accounts[placed % len(accounts)],
                    "BTCUSDT",
                    side,
                    OrderType.MARKET,
                    Decimal("0.001"),
                    order_id=f"o-{tag}-{placed}",
                )
                events += engine.place(order)
                placed += 1
            async with SqlAlchemyUnitOfWork(database, single_statement=True) as uow:
                await record_events(uow, events)
                await uow.commit()
    finally:
        await database.dispose()


async def _worker_handle_batches(database_url: str, count: int) -> None:
    from dependency_injector import providers
    from tests import services
    from tests.unit.http.conftest import api_container

    from tradesim.domain import OrderType, PlaceOrder, Side, Ticker
    from tradesim.entrypoints.settings import Settings

    tag = uuid.uuid4().hex[:8]
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            jwt_secret="x" * 64,
            data_dir=Path(tmp),
            database_url=database_url,
            redis_url=os.environ.get("TRADESIM_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"),
            redis_namespace=f"bench-{tag}:",
            object_store_url=Path(tmp).as_uri(),
            symbols=("BTCUSDT", "ETHUSDT"),
        )
        container = api_container(Path(tmp), settings=settings)
        container.core.ids.override(providers.Object(lambda: uuid.uuid4().hex))
        accounts = [(await container.accounts().open(f"user-{tag}", "Bench", "100000")).account_id for _ in range(8)]
        service = container.engine_service()
        price = Decimal("30000.0")
        await service.on_market(Ticker.of("BTCUSDT", last=price, bid=price - Decimal("0.1"), ask=price, ts=T0))
        try:
            for placed in range(count):
                side = Side.BUY if (placed // len(accounts)) % 2 == 0 else Side.SELL
                account = accounts[placed % len(accounts)]
                order = PlaceOrder(
                    account, "BTCUSDT", side, OrderType.MARKET, Decimal("0.001"), order_id=f"o-{tag}-{placed}"
                )
                await service.handle_batch([order])
        finally:
            services.forget_namespace(settings.redis_url or "", settings.redis_namespace)
            await container.persistence.database().dispose()


WORKLOADS = {
    "order POST": _order_posts,
    "order POST over HTTP": _order_posts_over_http,
    "/v5 order/create over HTTP": functools.partial(_order_posts_over_http, bybit=True),
    "worker batch": _worker_batches,
    "worker handle_batch": _worker_handle_batches,
}


def _child(workload: str, database_url: str, count: int) -> None:
    from tradesim.entrypoints.http.observability import configure_logging
    from tradesim.entrypoints.roles import SERVER_GC
    from tradesim.entrypoints.runner import run_async

    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        configure_logging()  # as `tradesim api` does: a JSON line per request, here to /dev/null
        run_async(WORKLOADS[workload](database_url, count), gc_threshold=SERVER_GC)  # type: ignore[arg-type]  # on uvloop, as `tradesim api` runs


def _instructions(workload: str, database_url: str, count: int, *, counted: bool = True) -> int:
    """Instructions of a child running `count` operations of `workload`; 0 when not `counted`."""
    command = [sys.executable, __file__, "--child", workload, "--database-url", database_url, "--count", str(count)]
    if not counted:
        run = subprocess.run(command, capture_output=True, text=True, check=False)
        if run.returncode:
            raise RuntimeError(f"{workload} x{count} failed:\n{run.stderr[-2000:]}")
        return 0
    command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *command]
    run = subprocess.run(command, capture_output=True, text=True, check=False)
    found = re.search(r"Collected : (\d+)", run.stderr)
    if run.returncode or found is None:
        raise RuntimeError(f"{workload} x{count} under callgrind failed:\n{run.stderr[-2000:]}")
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", type=int, default=20, help="operations in the first run of each workload")
    parser.add_argument("--large", type=int, default=220, help="operations in the second run")
    parser.add_argument(
        "--workload", action="append", choices=sorted(WORKLOADS), help="count only this one (repeatable); default all"
    )
    parser.add_argument("--child", choices=sorted(WORKLOADS), help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--smallest", action="store_true", help="the smallest run, as the tests run it")
    args = parser.parse_args()
    if args.smallest:
        args.small, args.large = 1, 2
    if args.child:
        _child(args.child, args.database_url, args.count)
        return
    from tests import services

    from tradesim.adapters.sqlalchemy.migrate import upgrade_to_head

    server = (
        os.environ.get("TRADESIM_BENCH_DATABASE_URL")
        or os.environ.get("TRADESIM_TEST_DATABASE_URL")
        or "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
    )
    counted = not args.smallest
    how = f"callgrind; runs of {args.small} and {args.large}" if counted else "--smallest: one run each, not counted"
    print(f"instructions per operation ({how})")
    with services.fresh_postgres_database(server) as database_url:
        upgrade_to_head(database_url)
        for workload in args.workload or WORKLOADS:
            if not counted:
                _instructions(workload, database_url, args.small, counted=False)  # once shows it works
                print(f"{workload:<26} {'not counted':>12}")
                continue
            small = _instructions(workload, database_url, args.small)
            large = _instructions(workload, database_url, args.large)
            figure = f"{(large - small) / (args.large - args.small):>12,.0f}"
            print(f"{workload:<26} {figure}")


if __name__ == "__main__":
    main()
