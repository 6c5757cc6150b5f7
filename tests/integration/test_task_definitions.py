"""The must-show test of the production processes: every ECS task definition, run as written.

The CDK app is synthesised; each task definition's command is started locally in production mode
with exactly its environment names and its secret names, the values pointed at local services: a
fresh PostgreSQL database, a password-protected redis-server of the test's own (AUTH required, as
ElastiCache's is: the URL carries no password, REDIS_AUTH_TOKEN does), a folder for the object
store. The exchanges are the project's protocol-faithful fakes (TRADESIM_BYBIT_WS_URL and
TRADESIM_BYBIT_REST_URL are the only names added). Every one-shot task (the migration, the nightly
history sync) exits 0; every long-running one answers its task definition's own health check and
keeps running until SIGTERM, then exits 0.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from tests import services
from tests.exchanges.bybit import FakeBybit as FakeBybitSocket
from tests.support.candles import walk
from tests.support.fake_exchange import FakeBybit as FakeBybitRest
from tests.support.fake_exchange import serving
from tests.support.realtime import PrivateRedis, free_port
from tests.support.task_definitions import TaskContainer, synthesise, task_containers
from tests.waiting import until
from tradesim.domain.bars import day_start_ms

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

DEPLOYMENT = "production"
LONG_RUNNING = ("api", "worker", "streamer")
ONE_SHOT = ("migrate", "sync")
#: Values the test keeps as the task definition gives them (CDK adds AWS_REGION to EC2 tasks).
AS_WRITTEN = frozenset({"ENVIRONMENT", "DEBUG", "TRADESIM_SYMBOLS", "AWS_REGION"})
#: Seconds a process may take to start on a busy machine (a condition is waited for, never a time).
START_S = 120.0
YESTERDAY = datetime.now(UTC).date() - timedelta(days=1)


@pytest.fixture(scope="module")
def tasks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, TaskContainer]:
    missing = [tool for tool in ("uv", "node") if shutil.which(tool) is None]
    if missing:
        reason = f"synthesising the CDK app needs {' and '.join(missing)} on PATH"
        if os.environ.get("TRADESIM_REQUIRE_SERVICES") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return task_containers(synthesise(tmp_path_factory.mktemp("cdk.out")), DEPLOYMENT)


@pytest.fixture
def fresh_database(postgres_server: str) -> Iterator[str]:
    """An empty database: the migration task must build the schema itself."""
    with services.fresh_postgres_database(postgres_server) as url:
        yield url


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path / "redis", password=secrets.token_hex(16))
    server.start()
    try:
        yield server
    finally:
        server.stop()


class Deployment:
    """The task definitions' processes on this machine."""

    def __init__(self, tasks: dict[str, TaskContainer], root: Path, database_url: str, redis: PrivateRedis) -> None:
        self.tasks = tasks
        self.root = root
        self.database_url = database_url
        self.redis = redis
        self.api_port = free_port()
        self.objects = root / "objects"
        self.secrets = {
            "JWT_SECRET": secrets.token_urlsafe(48),
            # The local server trusts loopback; the app still puts the password into the URL.
            "DB_PASSWORD": secrets.token_urlsafe(16),
            "BYBIT_API_KEY": "test-key",
            "REDIS_AUTH_TOKEN": redis.url.split("//:", 1)[1].split("@", 1)[0],
        }
        self.exchange_urls: dict[str, str] = {}
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    def env(self, task: TaskContainer) -> dict[str, str]:
        """Exactly the task's names (and the exchange endpoints), with values pointed at this machine."""
        local = {
            "TRADESIM_DATA_DIR": str(self.root / task.role / "var"),
            "TRADESIM_DATABASE_URL": self.database_url,
            "TRADESIM_REDIS_URL": self.redis.address,
            "TRADESIM_OBJECT_STORE_URL": self.objects.as_uri(),
            "TRADESIM_HTTP_HOST": "127.0.0.1",
            "TRADESIM_HTTP_PORT": str(self.api_port),
        }
        env = {"PATH": os.environ.get("PATH", ""), "PYTHONUNBUFFERED": "1"}
        for name, value in task.environment.items():
            if name in AS_WRITTEN:
                assert isinstance(value, str), f"{task.family}: {name} is not a plain value"
                env[name] = value
            elif name in local:
                env[name] = local[name]
            else:
                pytest.fail(f"{task.family} sets {name}, which this test does not know how to point at this machine")
        for name in task.secrets:
            assert name in self.secrets, f"{task.family} is given a secret this test does not know: {name}"
            env[name] = self.secrets[name]
        assert env["ENVIRONMENT"] == "production", f"{task.family} does not run in production mode"
        return env | self.exchange_urls

    def log(self, role: str) -> Path:
        return self.root / f"{role}.log"

    def output(self, role: str) -> str:
        return self.log(role).read_text(encoding="utf-8", errors="replace")[-4000:]

    def start(self, role: str) -> subprocess.Popen[bytes]:
        task = self.tasks[role]
        with self.log(role).open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "tradesim.entrypoints.cli.main", *task.command],
                env=self.env(task),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.processes[role] = process
        return process

    async def run_to_completion(self, role: str) -> int:
        process = self.start(role)
        await until(lambda: process.poll() is not None, within=START_S * 2, step=0.2)
        return int(process.returncode)

    async def healthy(self, role: str) -> bool:
        """The task definition's own health check, run beside the process as ECS runs it."""
        process = self.processes[role]
        assert process.poll() is None, f"tradesim {role} exited with {process.returncode}:\n{self.output(role)}"
        task = self.tasks[role]
        assert task.health_check is not None, f"{task.family} has no health check"
        program, *args = task.health_check
        assert program == "python"
        probe = await asyncio.create_subprocess_exec(
            sys.executable, *args, env=self.env(task), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        return await probe.wait() == 0

    def stop(self, role: str) -> int:
        process = self.processes[role]
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
        return int(process.returncode)

    def kill_all(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.kill()
                process.wait(10)


async def test_every_task_definition_runs_as_written_in_production_mode(
    tasks: dict[str, TaskContainer], fresh_database: str, private_redis: PrivateRedis, tmp_path: Path
) -> None:
    assert set(tasks) == {*LONG_RUNNING, *ONE_SHOT}, f"task definitions: {sorted(tasks)}"
    assert all(tasks[role].health_check is not None for role in LONG_RUNNING)
    assert all(tasks[role].health_check is None for role in ONE_SHOT)
    deployment = Deployment(tasks, tmp_path, fresh_database, private_redis)
    symbols = tasks["api"].environment["TRADESIM_SYMBOLS"].split(",")
    candles = [c for n, s in enumerate(symbols) for c in walk(s, day_start_ms(YESTERDAY), 1440, seed=n)]
    try:
        # The delivery's first step: the migration, on an empty database.
        assert await deployment.run_to_completion("migrate") == 0, deployment.output("migrate")
        assert "is at revision" in deployment.output("migrate")

        async with FakeBybitSocket() as exchange:
            for symbol in symbols:
                exchange.seed(symbol)
            with serving(FakeBybitRest(candles, server_time=day_start_ms(YESTERDAY) + 2 * 86_400_000)) as rest:
                deployment.exchange_urls = {"TRADESIM_BYBIT_WS_URL": exchange.url, "TRADESIM_BYBIT_REST_URL": rest.url}
                for role in LONG_RUNNING:
                    deployment.start(role)
                for role in LONG_RUNNING:
                    await until(lambda role=role: deployment.healthy(role), within=START_S, step=0.5)

                # They work together: the api reaches the database and the password-protected Redis,
                # and the streamer's prices reach the api through it.
                async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{deployment.api_port}") as client:
                    ready = await client.get("/readyz")
                    assert ready.status_code == 200, ready.text
                    assert ready.json()["checks"] == {"database": "ok", "redis": "ok"}

                    async def priced() -> bool:
                        await exchange.set_ticker("linear", symbols[0], lastPrice="30001.5")
                        return (await client.get(f"/api/v1/tickers/{symbols[0]}")).status_code == 200

                    await until(priced, within=START_S, step=0.5)

                # Each process talks to Redis through its one client: every connection it opened
                # (commands, pub/sub, readiness, login limits) carries that client's name.
                await _every_redis_connection_is_a_named_process_client(private_redis, deployment)

                # The nightly sync, as its scheduled task runs it.
                assert await deployment.run_to_completion("sync") == 0, deployment.output("sync")
                assert f"{len(symbols)} day(s): {len(symbols)} stored" in deployment.output("sync")

                # Still up, and still healthy, after all of that.
                for role in LONG_RUNNING:
                    assert await deployment.healthy(role), f"{role} no longer answers its health check"
                codes = {role: deployment.stop(role) for role in LONG_RUNNING}
        assert codes == dict.fromkeys(LONG_RUNNING, 0), {r: deployment.output(r) for r in LONG_RUNNING}
    finally:
        deployment.kill_all()


async def _every_redis_connection_is_a_named_process_client(redis_server: PrivateRedis, deployment: Deployment) -> None:
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(redis_server.url, client_name="test")
    try:
        connections = await client.client_list()
    finally:
        await client.aclose()
    names = {c["name"] for c in connections} - {"test"}
    pids = {str(deployment.processes[role].pid) for role in LONG_RUNNING}
    assert {name.rsplit("-", 1)[-1] for name in names} == pids, f"connections: {sorted(names)}"
    assert all(name.startswith("tradesim-") for name in names)
