"""Real services for integration and contract tests.

PostgreSQL and Redis come from `TRADESIM_TEST_DATABASE_URL` / `TRADESIM_TEST_REDIS_URL` (CI sets
both), else from testcontainers when a Docker engine answers, else the test is skipped with
the reason (or fails, when `TRADESIM_REQUIRE_SERVICES=1`).

Several test runs may share one server (parallel sessions on a developer machine), so each
session works in a database of its own, and each Redis user in a key and channel namespace
of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

from tests.conftest import unavailable


def _docker_answers() -> bool:
    try:
        import docker  # type: ignore[import-untyped]

        docker.from_env(timeout=3).ping()
    except Exception:
        return False
    return True


@contextlib.contextmanager
def postgres_server_url() -> Iterator[str]:
    """A SQLAlchemy asyncpg URL of a PostgreSQL server (any database on it)."""
    url = os.environ.get("TRADESIM_TEST_DATABASE_URL")
    if url:
        yield url
        return
    if not _docker_answers():
        unavailable("no PostgreSQL: set TRADESIM_TEST_DATABASE_URL or start a Docker engine")
    from testcontainers.postgres import PostgresContainer

    with PostgresContainer("postgres:15-alpine", driver="asyncpg") as container:
        yield container.get_connection_url()


@contextlib.contextmanager
def redis_server_url() -> Iterator[str]:
    url = os.environ.get("TRADESIM_TEST_REDIS_URL")
    if url:
        yield url
        return
    if not _docker_answers():
        unavailable("no Redis: set TRADESIM_TEST_REDIS_URL or start a Docker engine")
    from testcontainers.redis import RedisContainer

    with RedisContainer("redis:7-alpine") as container:
        host = container.get_container_host_ip()
        yield f"redis://{host}:{container.get_exposed_port(6379)}/0"


def with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, parts.fragment))


@contextlib.contextmanager
def fresh_postgres_database(server_url: str) -> Iterator[str]:
    """Create an empty database on the server for this session; drop it afterwards."""
    import asyncpg  # type: ignore[import-untyped]

    name = f"tradesim_test_{uuid.uuid4().hex[:12]}"
    admin = with_database(server_url, "postgres").replace("postgresql+asyncpg://", "postgresql://")

    async def run(sql: str) -> None:
        connection = await asyncpg.connect(admin)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    asyncio.run(run(f'CREATE DATABASE "{name}"'))
    try:
        yield with_database(server_url, name)
    finally:
        asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def unique_namespace(prefix: str = "test") -> str:
    """A Redis key/channel prefix no other test uses."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}:"


def forget_namespace(redis_url: str, namespace: str) -> None:
    """Delete every key under `namespace`; a Redis that is down (an outage test) keeps them."""
    import redis

    client = redis.Redis.from_url(redis_url, socket_connect_timeout=2.0, socket_timeout=5.0)
    try:
        keys = list(client.scan_iter(match=f"{namespace}*", count=1000))
        for start in range(0, len(keys), 500):
            client.delete(*keys[start : start + 500])
    except redis.RedisError:
        pass
    finally:
        client.close()
