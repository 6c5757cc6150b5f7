"""Over real sockets: a client that stops reading is closed with 4429; a reading client misses nothing."""

from __future__ import annotations

import asyncio
import json
import socket
from decimal import Decimal
from pathlib import Path

import pytest
from websockets.asyncio.client import connect

from tests.unit.http.conftest import SECRET
from tests.waiting import until
from tradesim.domain import Ticker
from tradesim.entrypoints.container import build_container
from tradesim.entrypoints.http.app import WIRED_MODULES, ApiOptions, create_app
from tradesim.entrypoints.http.server import serve_api
from tradesim.entrypoints.settings import Settings

pytestmark = pytest.mark.integration
#: Enough to fill the kernel's loopback buffers (several MiB) of the client that stopped reading.
FRAMES = 30000


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _stalled_client(port: int, token: str) -> socket.socket:
    """A raw WebSocket client with a tiny receive buffer that subscribes and then never reads."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    loop = asyncio.get_running_loop()
    await loop.sock_connect(sock, ("127.0.0.1", port))
    await loop.sock_sendall(
        sock,
        f"GET /ws?token={token} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n".encode(),
    )
    answer = b""
    while b'"op":"auth"' not in answer:  # the 101 and the auth answer, then it subscribes
        answer += await loop.sock_recv(sock, 4096)
    payload = json.dumps({"op": "subscribe", "args": ["tickers.BTCUSDT"]}).encode()
    mask = b"\x01\x02\x03\x04"
    frame = bytes([0x81, 0x80 | len(payload)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    await loop.sock_sendall(sock, frame)
    return sock


async def test_a_stalled_client_is_closed_and_the_others_keep_up(tmp_path: Path) -> None:
    port = _free_port()
    settings = Settings(
        jwt_secret=SECRET,
        data_dir=tmp_path,
        database_url="memory://",
        object_store_url=(tmp_path / "objects").as_uri(),
        http_port=port,
        symbols=("BTCUSDT",),
    )
    container = build_container(settings)
    container.wire(modules=list(WIRED_MODULES))
    await container.init_resources()  # type: ignore[misc]
    app = create_app(container, ApiOptions(rate_limits=False))
    stop = asyncio.Event()
    server = asyncio.create_task(serve_api(app, settings, shutdown_trigger=stop.wait))
    try:
        auth = container.auth()
        await auth.register("slow@example.com", "password1")
        token = (await auth.login("slow@example.com", "password1")).access_token

        def accepting() -> bool:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            except OSError:
                return False
            return True

        await until(accepting, within=20, step=0.05, what="the api to accept connections")
        stalled = await _stalled_client(port, token)
        hub = container.api.hub()
        async with connect(f"ws://127.0.0.1:{port}/ws?token={token}", compression=None, max_queue=None) as ws:
            await ws.recv()
            await ws.send(json.dumps({"op": "subscribe", "args": ["tickers.BTCUSDT"]}))
            await ws.recv()
            received: list[int] = []

            async def read() -> None:
                while len(received) < FRAMES:
                    received.append(json.loads(await ws.recv())["ts"])

            reader = asyncio.create_task(read())
            bus = container.messaging.price_bus()
            for n in range(FRAMES):
                price = Decimal(30000) + n % 100
                await bus.publish(
                    Ticker(symbol="BTCUSDT", last_price=price, bid_price=price, ask_price=price, mark_price=price, ts=n)
                )
                await asyncio.sleep(0)  # let the pump send each one (no conflation in this test)
            await asyncio.wait_for(reader, 30)
            assert received == list(range(FRAMES)), "the reading client got every frame, in order"
            closed = [c for c in hub._connections if c.close_code is not None]
            assert [c.close_code for c in closed] in ([4429], []), "closed with 4429, or already gone"
            assert "tradesim_ws_slow_consumers_closed_total 1.0" in container.api.metrics().exposition().decode()
        stalled.close()
    finally:
        stop.set()
        await asyncio.wait_for(server, 15)
        await container.shutdown_resources()  # type: ignore[misc]
        container.unwire()
