"""A running tradesim (`tradesim serve` as a real process) priced by the project's protocol-faithful
Bybit feed (`tests.exchanges.bybit.FakeBybit` on loopback), for driving unmodified Bybit clients.

The fake venue runs on an event loop of its own thread; `price()` moves its BTCUSDT ticker, and a
pump re-sends the current ticker every `PUMP_EVERY_S` stamped now, so that the engine never finds
its price older than the staleness limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from tests.exchanges.bybit import FakeBybit
from tests.support.realtime import free_port

PUMP_EVERY_S = 0.1


class Venue:
    """FakeBybit in a thread, with a price pump."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="fake-bybit", daemon=True)
        self.exchange = FakeBybit()
        self._last = Decimal("30000.0")
        self._pump: asyncio.Future[None] | None = None

    def __enter__(self) -> Venue:
        self._thread.start()
        self._call(self.exchange.__aenter__())
        self.exchange.seed("BTCUSDT")
        self._pump = asyncio.run_coroutine_threadsafe(self._run_pump(), self._loop)
        return self

    def __exit__(self, *_: object) -> None:
        if self._pump is not None:
            self._pump.cancel()
        self._call(self.exchange.__aexit__(None, None, None))
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    @property
    def url(self) -> str:
        return self.exchange.url

    def price(self, last: str) -> None:
        """Move the market: last and mark at `last`, the ask at it, the bid one tick below."""
        self._last = Decimal(last)
        self._call(self._send())

    def _call(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(10)

    async def _send(self) -> None:
        last = str(self._last)
        await self.exchange.set_ticker(
            "linear",
            "BTCUSDT",
            ts=time.time_ns() // 1_000_000,
            lastPrice=last,
            markPrice=last,
            indexPrice=last,
            ask1Price=last,
            bid1Price=str(self._last - Decimal("0.1")),
            ask1Size="5",
            bid1Size="5",
        )

    async def _run_pump(self) -> None:
        while True:
            await self._send()
            await asyncio.sleep(PUMP_EVERY_S)


class Tradesim:
    """`tradesim serve` on a free port, fed by `venue`; `base_url` once `/readyz` answers."""

    def __init__(self, venue_url: str, data_dir: Path, **env: str) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        base = {k: v for k, v in os.environ.items() if not k.startswith(("TRADESIM_", "ENVIRONMENT", "DEBUG"))}
        self.env = base | {
            "TRADESIM_DATA_DIR": str(data_dir),
            "TRADESIM_HTTP_PORT": str(self.port),
            "TRADESIM_BYBIT_WS_URL": venue_url,
            "TRADESIM_SYMBOLS": "BTCUSDT",
            "TRADESIM_FEEDS": "bybit-linear",
            "PYTHONUNBUFFERED": "1",
            **env,
        }
        self.data_dir = data_dir
        self.log_path = data_dir / "serve.log"
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Tradesim:
        self._log = self.log_path.open("wb")
        self._process = subprocess.Popen(
            [sys.executable, "-m", "tradesim.entrypoints.cli.main", "serve"],
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        with httpx.Client(base_url=self.base_url, timeout=5) as client:
            while True:
                with contextlib.suppress(httpx.TransportError):
                    if client.get("/readyz").status_code == 200:
                        return self
                if self._process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"tradesim serve did not start:\n{self.output()}")
                time.sleep(0.2)

    def __exit__(self, *_: object) -> None:
        assert self._process is not None
        self._process.send_signal(signal.SIGTERM)
        try:
            self._process.wait(30)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(10)
        self._log.close()

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def trader_key(base_url: str, email: str, *, read_only: bool = False, balance: str = "100000") -> dict[str, Any]:
    """Register a user, open an account and make a key for it: the key as `/api/v1/api-keys` answers it."""
    with httpx.Client(base_url=base_url, timeout=10) as client:
        credentials = {"email": email, "password": "a long password"}
        assert client.post("/api/v1/auth/register", json=credentials).status_code == 201
        token = client.post("/api/v1/auth/login", json=credentials).json()["accessToken"]
        client.headers["Authorization"] = f"Bearer {token}"
        account = client.post("/api/v1/accounts", json={"name": "Bot", "startingBalance": balance}).json()
        created = client.post("/api/v1/api-keys", json={"accountId": account["accountId"], "readOnly": read_only})
        assert created.status_code == 201, created.text
        key: dict[str, Any] = created.json()
        key["accessToken"] = token
        return key


@contextlib.contextmanager
def running_venue(data_dir: Path, **env: str) -> Iterator[tuple[Venue, Tradesim]]:
    """`env`: more settings for `tradesim serve` (its database and Redis, say)."""
    with Venue() as venue, Tradesim(venue.url, data_dir, **env) as tradesim:
        yield venue, tradesim
