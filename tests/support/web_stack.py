"""`tradesim serve` with the protocol-faithful Bybit feed, for the browser tests and the web benchmark.

The fake exchange runs on a loop in a thread of its own (the browser tests drive Playwright's
synchronous API, which refuses to run inside an event loop). A pump re-sends the current ticker
a few times a second so that the engine never sees a stale price; `set_price` moves it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from tests.exchanges.bybit import FakeBybit
from tests.support.candles import MINUTE, walk
from tradesim.adapters.memory.market_data import ListHistorySource
from tradesim.application.history import HistorySync
from tradesim.entrypoints.bootstrap import start_container, stop_container
from tradesim.entrypoints.settings import Settings

#: The stored day a replay plays (the live feed is the fake exchange; replays need history).
HISTORY_DAY = date(2024, 3, 4)
HISTORY_START = int(datetime(HISTORY_DAY.year, HISTORY_DAY.month, HISTORY_DAY.day, tzinfo=UTC).timestamp() * 1000)
TICK = Decimal("0.1")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def store_history(data_dir: Path, days: int = 1, recent: int = 180) -> None:
    """A day of BTCUSDT 1m bars in the data dir's object folder, indexed, as a backfill leaves it; and
    the `recent` closed bars up to now in the candle table, as the streamer leaves them, for the live chart."""
    container = await start_container(Settings.from_env({"TRADESIM_DATA_DIR": str(data_dir)}))
    try:
        this_minute = int(time.time() // 60) * MINUTE
        async with container.persistence.unit_of_work() as uow:
            await uow.candles.upsert(walk("BTCUSDT", this_minute - recent * MINUTE, recent, seed=11))
            await uow.commit()
        sync = HistorySync(
            ListHistorySource(walk("BTCUSDT", HISTORY_START, days * 1440)),
            container.storage.candle_store(),
            container.persistence.unit_of_work,
            container.core.clock(),
        )
        report = await sync.backfill("BTCUSDT", HISTORY_DAY, HISTORY_DAY + timedelta(days=days - 1))
        assert report.exit_code == 0, report.summary()
    finally:
        await stop_container(container)


class Feed:
    """The fake Bybit on a loop of its own; `set_price` changes the ticker every subscriber sees."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="fake-bybit", daemon=True)
        self.exchange = FakeBybit()
        self.prices: dict[str, Decimal] = {"BTCUSDT": Decimal("30000.0"), "ETHUSDT": Decimal("2000.00")}
        self._pump: Future[None] | None = None

    def start(self) -> None:
        self.thread.start()
        self.call(self._start())

    def call(self, coroutine: Any, timeout: float = 30) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    async def _start(self) -> None:
        await self.exchange.__aenter__()
        for symbol in self.prices:
            self.exchange.seed(symbol)
            self.exchange.tickers[("linear", symbol)].update(self._fields(symbol))
        self._pump = asyncio.run_coroutine_threadsafe(self._run_pump(), self.loop)

    def _fields(self, symbol: str) -> dict[str, str]:
        last = self.prices[symbol]
        step = TICK if symbol == "BTCUSDT" else Decimal("0.01")
        return {
            "lastPrice": str(last),
            "markPrice": str(last),
            "indexPrice": str(last),
            "bid1Price": str(last - step),
            "ask1Price": str(last + step),
        }

    async def _run_pump(self) -> None:
        while True:
            for symbol in self.prices:
                # Stamped with the wall clock: the engine refuses to fill on a price older than its limit.
                await self.exchange.set_ticker("linear", symbol, ts=int(time.time() * 1000), **self._fields(symbol))
            await asyncio.sleep(0.25)

    def set_price(self, symbol: str, last: str) -> None:
        """From the next pump on (at most a quarter second), `symbol` trades at `last`."""
        self.prices[symbol] = Decimal(last)

    def stop(self) -> None:
        if self._pump is not None:
            self._pump.cancel()
        with contextlib.suppress(Exception):
            self.call(self.exchange.__aexit__(None, None, None), timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)


class Serve:
    """A `tradesim serve` process on loopback over `feed`."""

    def __init__(self, data_dir: Path, feed: Feed) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TRADESIM_", "ENVIRONMENT", "DEBUG"))}
        env.update(
            {
                "TRADESIM_DATA_DIR": str(data_dir),
                "TRADESIM_HTTP_PORT": str(self.port),
                "TRADESIM_BYBIT_WS_URL": feed.exchange.url,
                "TRADESIM_FEEDS": "bybit-linear",
                "TRADESIM_SYMBOLS": ",".join(feed.prices),
                "PYTHONUNBUFFERED": "1",
            }
        )
        self.log = (data_dir / "serve.log").open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tradesim.entrypoints.cli.main", "serve"],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.log_path = data_dir / "serve.log"

    def wait_ready(self, within: float = 90) -> None:
        """Until /readyz answers and the feed's first BTCUSDT price has arrived."""
        deadline = time.monotonic() + within
        with httpx.Client(base_url=self.base_url, timeout=5) as client:
            while True:
                assert self.process.poll() is None, self.log_path.read_text()
                with contextlib.suppress(httpx.TransportError):
                    if (
                        client.get("/readyz").status_code == 200
                        and client.get("/api/v1/tickers/BTCUSDT").status_code == 200
                    ):
                        return
                assert time.monotonic() < deadline, "serve did not become ready:\n" + self.log_path.read_text()
                time.sleep(0.2)

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        self.log.close()
        return code


@contextlib.contextmanager
def running_stack(data_dir: Path, days: int = 1) -> Iterator[tuple[Serve, Feed]]:
    """`days` of history stored, the feed up, serve ready; everything stopped afterwards."""
    feed = Feed()
    feed.start()
    # On the feed's loop: the caller may be inside a running loop of its own (pytest-asyncio's).
    feed.call(store_history(data_dir, days), timeout=300)
    serve = Serve(data_dir, feed)
    try:
        serve.wait_ready()
        yield serve, feed
    finally:
        code = serve.stop()
        feed.stop()
    assert code == 0, serve.log_path.read_text()
