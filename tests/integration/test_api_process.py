"""`tradesim api` as a real process: hypercorn on a free port, HTTP and WebSocket over loopback."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.sync.client import connect

from tests.waiting import wait_for

pytestmark = pytest.mark.integration


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def api_process(tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    env = {
        **os.environ,
        "TRADESIM_DATA_DIR": str(tmp_path),
        "TRADESIM_HTTP_PORT": str(port),
        "TRADESIM_HTTP_HOST": "127.0.0.1",
        "ENVIRONMENT": "development",
    }
    for name in ("TRADESIM_DATABASE_URL", "TRADESIM_REDIS_URL", "JWT_SECRET"):
        env.pop(name, None)
    process = subprocess.Popen(
        [sys.executable, "-m", "tradesim.entrypoints.cli.main", "api"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(
            lambda: httpx.get(f"{base}/healthz", timeout=1).status_code == 200, 30, "tradesim api to answer /healthz"
        )
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            output, _ = process.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
        assert process.returncode == 0, output
        lines = [line for line in output.splitlines() if line.startswith("{")]
        assert any(json.loads(line).get("event") == "request" for line in lines), "structured access logs"


def test_the_api_process_serves_rest_and_websocket(api_process: str) -> None:
    base = api_process
    with httpx.Client(base_url=base, timeout=10) as client:
        assert client.get("/readyz").json()["checks"]["database"] == "ok"
        assert (
            client.post("/api/v1/auth/register", json={"email": "p@example.com", "password": "password1"}).status_code
            == 201
        )
        tokens = client.post("/api/v1/auth/login", json={"email": "p@example.com", "password": "password1"}).json()
        headers = {"Authorization": f"Bearer {tokens['accessToken']}", "X-Request-ID": "it-1"}
        created = client.post("/api/v1/accounts", json={"name": "Main"}, headers=headers)
        assert created.status_code == 201
        assert created.headers["X-Request-ID"] == "it-1"
        assert client.get("/openapi.json").json()["openapi"].startswith("3.")
        ws_url = base.replace("http", "ws") + f"/ws?token={tokens['accessToken']}"
        with connect(ws_url) as ws:
            assert json.loads(ws.recv(timeout=5))["op"] == "auth"
            ws.send(json.dumps({"op": "subscribe", "args": ["tickers.BTCUSDT", "wallet"]}))
            assert json.loads(ws.recv(timeout=5))["success"] is True
            ws.send(json.dumps({"op": "ping"}))
            assert json.loads(ws.recv(timeout=5))["ret_msg"] == "pong"
            assert "tradesim_open_websockets 1.0" in client.get("/metrics").text
