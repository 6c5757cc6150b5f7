"""Over hypercorn's real sockets: pushes written as ready-made frames, and when they must not be.

The direct writer is found by walking hypercorn's objects (`entrypoints/http/ws/direct.py`): this
proves it is found with the hypercorn in uv.lock, that its frames read as the same messages, and
that a client which negotiated compression gets its pushes through ASGI, compressed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest
import uvloop
from websockets.asyncio.client import ClientConnection, connect

from tests.unit.http.conftest import SECRET
from tests.waiting import until
from tradesim.domain import Ticker
from tradesim.entrypoints.bootstrap import prepare_database
from tradesim.entrypoints.container import Container, build_container
from tradesim.entrypoints.http.app import ApiOptions, create_app
from tradesim.entrypoints.http.server import serve_api
from tradesim.entrypoints.http.ws.direct import text_frame
from tradesim.entrypoints.settings import Settings

pytestmark = pytest.mark.integration


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.asynccontextmanager
async def _serving(tmp_path: Path) -> AsyncIterator[tuple[Container, str]]:
    port = _free_port()
    settings = Settings(
        jwt_secret=SECRET,
        data_dir=tmp_path,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}",
        object_store_url=(tmp_path / "objects").as_uri(),
        http_port=port,
        symbols=("BTCUSDT",),
    )
    await prepare_database(settings)
    container = build_container(settings)
    app = create_app(container, ApiOptions(rate_limits=False))
    stop = asyncio.Event()
    server = asyncio.create_task(serve_api(app, settings, shutdown_trigger=stop.wait))
    try:

        def accepting() -> bool:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            except OSError:
                return False
            return True

        await until(accepting, within=20, step=0.05, what="the api to accept connections")
        yield container, f"ws://127.0.0.1:{port}/ws"
    finally:
        stop.set()
        await asyncio.wait_for(server, 15)


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[Container, str]]:
    async with _serving(tmp_path) as found:
        yield found


async def _subscribed(container: Container, url: str, **options: object) -> tuple[ClientConnection, str]:
    auth = container.auth()
    email = f"direct-{id(options)}@example.com"
    await auth.register(email, "password1")
    token = (await auth.login(email, "password1")).access_token
    ws = await connect(f"{url}?token={token}", **options)  # type: ignore[arg-type]
    await ws.recv()  # auth
    await ws.send(json.dumps({"op": "subscribe", "args": ["tickers.BTCUSDT"]}))
    await ws.recv()
    return ws, auth.authenticate(token)


async def _ticks(container: Container, ws: ClientConnection, count: int) -> list[int]:
    bus = container.messaging.price_bus()
    got: list[int] = []
    for n in range(count):
        price = Decimal(30000) + n
        await bus.publish(Ticker.of("BTCUSDT", last=price, bid=price, ask=price, mark=price, ts=n + 1))
        async with asyncio.timeout(5):
            while not got or got[-1] != n + 1:
                message = json.loads(await ws.recv())
                if message.get("topic") == "tickers.BTCUSDT":
                    got.append(message["ts"])
    return got


async def test_an_uncompressed_connection_gets_its_pushes_as_ready_made_frames(
    served: tuple[Container, str],
) -> None:
    container, url = served
    ws, user_id = await _subscribed(container, url, compression=None)
    [connection] = container.api.hub().connections_of(user_id)
    assert connection.writes_directly
    assert await _ticks(container, ws, 20) == list(range(1, 21))  # each one, in order
    await ws.close()


def test_on_uvloop_as_the_api_runs_pushes_are_ready_made_frames_too(tmp_path: Path) -> None:
    # uvloop's transports are not asyncio's classes: the writer is found by what they do.
    async def main() -> None:
        async with _serving(tmp_path) as (container, url):
            ws, user_id = await _subscribed(container, url, compression=None)
            [connection] = container.api.hub().connections_of(user_id)
            assert connection.writes_directly
            assert await _ticks(container, ws, 5) == list(range(1, 6))
            await ws.close()

    uvloop.run(main())


async def test_a_bybit_socket_gets_its_pushes_as_ready_made_frames_too(served: tuple[Container, str]) -> None:
    # A bot's pushes (`/v5/public/...`, `/v5/private`) take the same path as the web client's.
    container, url = served
    ws = await connect(url.removesuffix("/ws") + "/v5/public/linear", compression=None)
    await ws.send(json.dumps({"op": "subscribe", "args": ["tickers.BTCUSDT"], "req_id": "1"}))
    assert json.loads(await ws.recv())["success"] is True
    [connection] = [c for c in container.api.hub()._connections if c.topics]
    assert connection.writes_directly
    bus = container.messaging.price_bus()
    for n in range(1, 6):
        price = Decimal(30000) + n
        await bus.publish(Ticker.of("BTCUSDT", last=price, bid=price, ask=price, mark=price, ts=n))
        async with asyncio.timeout(5):
            while (message := json.loads(await ws.recv())).get("topic") != "tickers.BTCUSDT":
                pass
        assert message["ts"] == n
        assert message["data"]["lastPrice"] == str(price)
    await ws.close()


async def test_a_compressed_connection_gets_its_pushes_through_asgi(served: tuple[Container, str]) -> None:
    container, url = served
    ws, user_id = await _subscribed(container, url, compression="deflate")
    [connection] = container.api.hub().connections_of(user_id)
    assert not connection.writes_directly  # its frames differ from everyone else's
    assert await _ticks(container, ws, 5) == list(range(1, 6))
    await ws.close()


def test_frames_carry_their_length_in_the_form_its_size_needs() -> None:
    for size, header in (
        (125, b"\x81\x7d"),
        (126, b"\x81\x7e\x00\x7e"),
        (70_000, b"\x81\x7f" + (70_000).to_bytes(8, "big")),
    ):
        frame = text_frame("x" * size)
        assert frame == header + b"x" * size
