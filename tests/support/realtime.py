"""Real tradesim processes (api, worker) over real PostgreSQL and Redis, and what tests drive them with.

`Stack` starts `tradesim api` and `tradesim worker` as child processes sharing one database, one
Redis namespace and one JWT secret (so any api replica accepts any user's token). `TickerPump`
plays the streamer: it publishes fresh tickers on `ticker.{SYMBOL}` from a thread and rides
through Redis restarts. `Trader` is a user of the public HTTP interface; `PrivateRedis` and
`PrivatePostgres` are servers of the test's own that it may stop and start again.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import httpx
import redis

from tests import services
from tests.waiting import wait_for
from tradesim.adapters.redis.market_codec import encode_events
from tradesim.domain.market import Ticker
from tradesim.ports.messaging import price_channel
from tradesim.ports.unit_of_work import UnitOfWork

START_TIMEOUT_S = 45.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@attrs.define
class Process:
    role: str
    popen: subprocess.Popen[bytes]
    log_path: Path
    base_url: str = ""

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill9(self) -> None:
        self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(10)

    def stop(self, timeout: float = 20.0) -> int:
        """SIGTERM, as a supervisor stops a task; returns the exit code (SIGKILL after `timeout`)."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(10)
        return int(self.popen.returncode)

    def output(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


@attrs.define
class Stack:
    database_url: str
    redis_url: str
    data_dir: Path
    namespace: str = attrs.field(factory=lambda: f"rt-{uuid.uuid4().hex[:10]}:")
    jwt_secret: str = attrs.field(factory=lambda: uuid.uuid4().hex * 2)
    extra_env: dict[str, str] = attrs.field(factory=dict)
    processes: list[Process] = attrs.field(factory=list)

    def env(self, **extra: str) -> dict[str, str]:
        # Not pytest's variables either: the processes are not tests (Jesse, in a worker, would behave as under test).
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TRADESIM_", "PYTEST_"))}
        env.update(
            {
                "ENVIRONMENT": "test",
                "TRADESIM_DATA_DIR": str(self.data_dir),
                "TRADESIM_DATABASE_URL": self.database_url,
                "TRADESIM_REDIS_URL": self.redis_url,
                "TRADESIM_REDIS_NAMESPACE": self.namespace,
                "TRADESIM_SYMBOLS": "BTCUSDT,ETHUSDT,SOLUSDT",
                "JWT_SECRET": self.jwt_secret,
                "PYTHONUNBUFFERED": "1",
                # Strategy backtests keep a child process with Jesse loaded in each worker, and
                # deployments import Jesse in it: only the tests of strategies turn them on (extra_env).
                "TRADESIM_STRATEGY_RUNS": "0",
                "TRADESIM_STRATEGY_DEPLOYMENTS": "0",
                **self.extra_env,
                **extra,
            }
        )
        return env

    def _spawn(self, role: str, **extra: str) -> Process:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.data_dir / f"{role}-{len(self.processes)}.log"
        with log_path.open("wb") as log:
            popen = subprocess.Popen(
                [sys.executable, "-m", "tradesim.entrypoints.cli.main", role],
                env=self.env(**extra),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        process = Process(role, popen, log_path)
        self.processes.append(process)
        return process

    def api(self) -> Process:
        port = free_port()
        process = self._spawn("api", TRADESIM_HTTP_HOST="127.0.0.1", TRADESIM_HTTP_PORT=str(port))
        process.base_url = f"http://127.0.0.1:{port}"

        def healthy() -> bool:
            assert process.alive(), f"tradesim api exited:\n{process.output()[-3000:]}"
            return httpx.get(f"{process.base_url}/healthz", timeout=1).status_code == 200

        wait_for(healthy, START_TIMEOUT_S, "tradesim api to answer /healthz")
        return process

    def worker(self, *, wait_for_partitions: bool = True) -> Process:
        process = self._spawn("worker")
        if wait_for_partitions:
            wait_for(lambda: self.partitions_of(process), START_TIMEOUT_S, "the new worker to own partitions")
        return process

    def lease_holders(self) -> dict[int, str]:
        """partition -> worker id, as the leases in Redis say."""
        client = redis.Redis.from_url(self.redis_url)
        try:
            keys = client.keys(f"{self.namespace}lease.partition.*")
            values = client.mget(keys) if keys else []
        finally:
            client.close()
        return {int(k.decode().rsplit(".", 1)[1]): v.decode() for k, v in zip(keys, values, strict=True) if v}

    def partitions_of(self, process: Process) -> set[int]:
        assert process.alive(), f"tradesim {process.role} exited:\n{process.output()[-3000:]}"
        # worker ids are `{host}-{pid}-{suffix}`
        return {p for p, holder in self.lease_holders().items() if holder.split("-")[-2] == str(process.pid)}

    def stop_all(self) -> dict[str, int]:
        codes = {}
        for process in reversed(self.processes):
            codes[f"{process.role}:{process.pid}"] = process.stop()
        services.forget_namespace(self.redis_url, self.namespace)
        return codes


class TickerPump:
    """Publishes a ticker per symbol every `interval` seconds, a random walk on the tick grid."""

    STARTS = {"BTCUSDT": Decimal("30000.0"), "ETHUSDT": Decimal("2000.00"), "SOLUSDT": Decimal("100.00")}
    TICKS = {"BTCUSDT": Decimal("0.1"), "ETHUSDT": Decimal("0.01"), "SOLUSDT": Decimal("0.01")}

    def __init__(self, redis_url: str, namespace: str, symbols: tuple[str, ...], interval: float = 0.05) -> None:
        self._url = redis_url
        self._namespace = namespace
        self._symbols = symbols
        self._interval = interval
        self._random = random.Random(7)
        self.prices = {s: self.STARTS[s] for s in symbols}
        self.sent = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ticker-pump", daemon=True)

    def __enter__(self) -> TickerPump:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        client = redis.Redis.from_url(self._url, socket_timeout=2, socket_connect_timeout=1)
        while not self._stop.wait(self._interval):
            now = int(time.time() * 1000)
            try:
                for symbol in self._symbols:
                    tick = self.TICKS[symbol]
                    price = self.prices[symbol] + tick * self._random.randint(-20, 20)
                    self.prices[symbol] = price
                    ticker = Ticker.of(symbol, last=price, bid=price - tick, ask=price, mark=price, ts=now)
                    client.publish(self._namespace + price_channel(symbol), encode_events([ticker]))
                self.sent += 1
            except redis.RedisError:
                time.sleep(0.2)  # Redis restarting: prices are worthless once old, just go on
        client.close()


class Trader:
    """One user of the public interface of one api process."""

    def __init__(self, base_url: str, email: str, password: str = "password1") -> None:
        self.base_url = base_url
        self.email = email
        self.client = httpx.Client(base_url=base_url, timeout=10)
        self.client.post("/api/v1/auth/register", json={"email": email, "password": password}).raise_for_status()
        tokens = self.client.post("/api/v1/auth/login", json={"email": email, "password": password}).json()
        self.token: str = tokens["accessToken"]
        self.client.headers["Authorization"] = f"Bearer {self.token}"

    def on(self, base_url: str) -> Trader:
        """The same user (same token) talking to another api replica."""
        other = object.__new__(Trader)
        other.base_url, other.email, other.token = base_url, self.email, self.token
        other.client = httpx.Client(base_url=base_url, timeout=10, headers={"Authorization": f"Bearer {self.token}"})
        return other

    def open_account(self, name: str = "Main", deposit: str = "100000") -> str:
        answer = self.client.post("/api/v1/accounts", json={"name": name, "startingBalance": deposit})
        answer.raise_for_status()
        return str(answer.json()["accountId"])

    def place(self, account_id: str, symbol: str = "BTCUSDT", side: str = "Buy", qty: str = "0.010") -> httpx.Response:
        return self.client.post(
            "/api/v1/orders",
            json={"accountId": account_id, "symbol": symbol, "side": side, "orderType": "Market", "qty": qty},
        )

    def order(self, order_id: str) -> dict[str, Any]:
        answer = self.client.get(f"/api/v1/orders/{order_id}")
        answer.raise_for_status()
        return dict(answer.json())

    def ws_url(self) -> str:
        return self.base_url.replace("http://", "ws://") + f"/ws?token={self.token}"

    def close(self) -> None:
        self.client.close()


class PrivateRedis:
    """A redis-server of the test's own on a free port, which the test may stop and start again.

    With `password`, clients must AUTH as ElastiCache's do: `url` carries it, `address` does not.
    """

    def __init__(self, directory: Path, *, password: str | None = None) -> None:
        self.port = free_port()
        self.address = f"redis://127.0.0.1:{self.port}/0"
        self.url = f"redis://:{password}@127.0.0.1:{self.port}/0" if password else self.address
        self._password = password
        self._dir = directory
        self._popen: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is not installed"
        self._dir.mkdir(parents=True, exist_ok=True)
        args = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        if self._password:
            args += ["--requirepass", self._password]
        self._popen = subprocess.Popen([*args, "--dir", str(self._dir)], stdout=subprocess.DEVNULL)
        wait_for(lambda: redis.Redis.from_url(self.url).ping(), 10, "the private redis-server to answer")

    def stop(self) -> None:
        """Gone at once, with everything it held (it keeps nothing on disk)."""
        if self._popen is not None:
            self._popen.kill()
            self._popen.wait(10)
            self._popen = None


class PrivatePostgres:
    """A PostgreSQL cluster of the test's own (initdb in a temporary folder) that may be stopped.

    As root, the server runs as the `postgres` user (it refuses to run as root).
    """

    def __init__(self) -> None:
        self.port = free_port()
        # Not under pytest's folder: that one is private to root, and the server runs as postgres.
        self.dir = Path(tempfile.mkdtemp(prefix="tradesim-pg-"))
        self.url = f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"
        self._bin = _postgres_bin()

    def _run(self, *args: str) -> None:
        command = [str(self._bin / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, timeout=60)

    def init(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        self._run("initdb", "-D", str(self.dir / "data"), "-U", "postgres", "--auth=trust", "-E", "UTF8")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.dir / "data"), "-o", options, "-l", str(self.dir / "log"), "-w", "start")

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run("pg_ctl", "-D", str(self.dir / "data"), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def _postgres_bin() -> Path:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    assert versions, "PostgreSQL's server programs (initdb, pg_ctl) are not installed"
    return versions[-1].parent


@contextlib.contextmanager
def running_stack(stack: Stack) -> Iterator[Stack]:
    """Stops every process at the end; a process that did not exit cleanly fails the test with its log."""
    try:
        yield stack
    finally:
        codes = stack.stop_all()
    bad = {name: code for name, code in codes.items() if code not in (0, -signal.SIGKILL)}
    if bad:
        logs = "\n".join(f"--- {p.role} {p.pid}\n{p.output()[-4000:]}" for p in stack.processes)
        raise AssertionError(f"processes did not exit cleanly: {bad}\n{logs}")


@attrs.frozen
class Audit:
    """What the database says about some accounts, and every invariant it breaks."""

    orders: int
    executions: int
    statuses: dict[str, int]
    problems: list[str]


@contextlib.asynccontextmanager
async def stored(database_url: str) -> AsyncIterator[UnitOfWork]:
    """A unit of work on the database the processes write, for reading what they did."""
    from tradesim.adapters.sqlalchemy.database import Database
    from tradesim.adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork

    database = Database(database_url)
    try:
        async with SqlAlchemyUnitOfWork(database) as uow:
            yield uow
    finally:
        await database.dispose()


async def audit(database_url: str, account_ids: list[str]) -> Audit:
    """Every order in one terminal state, executions unique and adding up to their orders, each
    position the signed sum of its fills, each balance the sum of its ledger."""
    from tradesim.domain.enums import Side

    problems: list[str] = []
    statuses: dict[str, int] = {}
    order_count = execution_count = 0
    async with stored(database_url) as uow:
        for account_id in account_ids:
            orders = await uow.orders.list_by_account(account_id, limit=1_000_000)
            executions = await uow.executions.list_by_account(account_id, limit=1_000_000)
            order_count += len(orders)
            execution_count += len(executions)
            exec_ids = [e.exec_id for e in executions]
            if len(set(exec_ids)) != len(exec_ids):
                problems.append(f"{account_id}: an execution is recorded twice")
            filled: dict[str, Decimal] = {}
            signed: dict[str, Decimal] = {}
            for e in executions:
                filled[e.order_id] = filled.get(e.order_id, Decimal(0)) + e.exec_qty
                sign = 1 if e.side is Side.BUY else -1
                signed[e.symbol] = signed.get(e.symbol, Decimal(0)) + sign * e.exec_qty
            for order in orders:
                statuses[order.status.value] = statuses.get(order.status.value, 0) + 1
                if not order.status.is_terminal:
                    problems.append(f"order {order.order_id} is still {order.status.value}")
                if filled.get(order.order_id, Decimal(0)) != order.cum_exec_qty:
                    problems.append(
                        f"order {order.order_id}: executions add up to {filled.get(order.order_id)}, "
                        f"cumExecQty is {order.cum_exec_qty}"
                    )
                if order.cum_exec_qty > order.qty:
                    problems.append(f"order {order.order_id} filled {order.cum_exec_qty} of {order.qty}")
            for position in await uow.positions.list_by_account(account_id):
                size = position.size if position.side is Side.BUY else -position.size
                if size != signed.get(position.symbol, Decimal(0)):
                    problems.append(
                        f"{account_id} {position.symbol}: position {size}, fills {signed.get(position.symbol)}"
                    )
            balance = (await uow.balances.get(account_id)).get("USDT", Decimal(0))
            ledger = await uow.ledger.total(account_id, "USDT")
            if balance != ledger:
                problems.append(f"{account_id}: balance {balance} but the ledger adds up to {ledger}")
    return Audit(order_count, execution_count, statuses, problems)
