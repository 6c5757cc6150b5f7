"""The api on the configured PostgreSQL and Redis.

The api depends only on ports, so this suite is the unit suite's main flow with the container
built from settings that name the real services. Until the SQL (issue 3) and Redis (issue 5)
adapters land, the containers still pick the in-memory ones for the database and the buses; the
login rate limiter already uses Redis. When the adapters land, this runs unchanged against them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis.asyncio
from quart.testing.connections import WebsocketDisconnectError

from tests.unit.http.conftest import SECRET, Api, api_container, running_api
from tradesim.adapters.memory.clock import FixedClock
from tradesim.adapters.redis.connection import redis_client
from tradesim.adapters.redis.revocations import RedisRevocationBus
from tradesim.entrypoints.http.app import ApiOptions
from tradesim.entrypoints.http.observability import ApiMetrics
from tradesim.entrypoints.http.ws.hub import Hub
from tradesim.entrypoints.http.ws.sessions import SocketSessions
from tradesim.entrypoints.settings import Settings
from tradesim.ports.security import TokenClaims

pytestmark = pytest.mark.integration
T0 = 1_700_000_000_000


@pytest.fixture
async def service_api(
    tmp_path: Path, migrated_postgres_url: str, redis_url: str, redis_namespace: str
) -> AsyncIterator[Api]:
    async with _service_api(tmp_path, migrated_postgres_url, redis_url, redis_namespace) as api:
        yield api


@pytest.fixture
async def fresh_service_api(
    tmp_path: Path, database_url: str, redis_url: str, redis_namespace: str
) -> AsyncIterator[Api]:
    """On a database of its own (the test api's ids repeat from one test to the next)."""
    async with _service_api(tmp_path, database_url, redis_url, redis_namespace) as api:
        yield api


@contextlib.asynccontextmanager
async def _service_api(tmp_path: Path, database_url: str, redis_url: str, redis_namespace: str) -> AsyncIterator[Api]:
    settings = Settings(
        jwt_secret=SECRET,
        data_dir=tmp_path,
        database_url=database_url,
        object_store_url=(tmp_path / "objects").as_uri(),
        redis_url=redis_url,
        # Its own streams and channels: entries another run left in the default namespace would
        # be drained before this test's order.
        redis_namespace=redis_namespace,
        symbols=("BTCUSDT", "ETHUSDT"),
    )
    clock = FixedClock(T0)
    container = api_container(tmp_path, clock=clock, settings=settings)
    async with running_api(container, clock, ApiOptions()) as api:
        yield api


async def test_a_trader_logs_in_trades_and_sees_the_fill_pushed(service_api: Api) -> None:
    api = service_api
    headers = await api.user("it@example.com")
    token = headers["Authorization"].removeprefix("Bearer ")
    account = await api.account(headers)
    async with api.client.websocket(f"/ws?token={token}") as ws:
        await ws.receive()
        await ws.send(json.dumps({"op": "subscribe", "args": ["execution"]}))
        await ws.receive()
        await api.tick(last="30000.0")
        placed = await api.client.post(
            "/api/v1/orders",
            json={
                "accountId": account["accountId"],
                "symbol": "BTCUSDT",
                "side": "Buy",
                "orderType": "Market",
                "qty": "0.010",
            },
            headers=headers,
        )
        assert placed.status_code == 201
        await api.drain()
        pushed = json.loads(await ws.receive())
        assert pushed["topic"] == "execution"
        assert pushed["data"][0]["orderId"] == (await placed.get_json())["orderId"]
    ready = await (await api.client.get("/readyz")).get_json()
    assert ready["checks"]["database"] == "ok"


async def test_login_attempts_are_counted_in_redis(service_api: Api, redis_url: str, redis_namespace: str) -> None:
    api = service_api
    body = {"email": "nobody@example.com", "password": "wrong password"}
    statuses = [(await api.client.post("/api/v1/auth/login", json=body)).status_code for _ in range(6)]
    assert statuses == [401] * 5 + [429]
    # Under the service's namespace, as all its keys: another deployment on this Redis counts apart.
    client = redis.asyncio.Redis.from_url(redis_url)
    try:
        counters = [key async for key in client.scan_iter(match=f"{redis_namespace}tradesim:ratelimit:*")]
    finally:
        await client.aclose()
    assert any(b"nobody@example.com" in key for key in counters), counters


async def test_a_logout_ends_the_logins_sockets_through_redis(fresh_service_api: Api) -> None:
    # Issue 20, L5: the revocation travels on Redis, as it would to another api process's sockets.
    api = fresh_service_api
    await api.register("revoke-it@example.com")
    tokens = await api.login("revoke-it@example.com")
    async with api.client.websocket(f"/ws?token={tokens['accessToken']}") as ws:
        assert json.loads(await ws.receive())["success"] is True
        out = await api.client.post("/api/v1/auth/logout", json={"refreshToken": tokens["refreshToken"]})
        assert out.status_code == 204
        with pytest.raises(WebsocketDisconnectError) as closed:
            async with asyncio.timeout(10):
                while True:
                    await ws.receive()
        assert closed.value.args[0] == 4401


async def test_a_revocation_reaches_the_sockets_of_another_process(redis_url: str, redis_namespace: str) -> None:
    """Two api processes' session guards on one Redis: a login revoked on one ends its socket on the other."""
    clients = [redis_client(redis_url), redis_client(redis_url)]
    elsewhere = RedisRevocationBus(clients[0], redis_namespace)
    here_bus = RedisRevocationBus(clients[1], redis_namespace)
    clock = FixedClock(T0)
    sessions = SocketSessions(clock, here_bus)
    conn = Hub(metrics=ApiMetrics()).connect()
    sessions.watch(conn, TokenClaims("user-1", "access", "jti-1", T0, T0 + 900_000, "family-1"))
    guard = asyncio.create_task(sessions.run())
    try:
        async with asyncio.timeout(10):
            while conn.close_code is None:  # until the guard's subscription is live: pub/sub keeps nothing
                await elsewhere.publish("family-1")
                await asyncio.sleep(0.05)
        assert conn.close_code == 4401
    finally:
        guard.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await guard
        for client in clients:
            await client.aclose()
