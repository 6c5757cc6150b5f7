"""`tradesim serve` as a real process: embedded defaults, stored history played as the feed."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from tests.waiting import wait_for
from tradesim.adapters.memory.market_data import ListHistorySource
from tradesim.application.history import HistorySync
from tradesim.domain import Candle
from tradesim.entrypoints.bootstrap import start_container, stop_container
from tradesim.entrypoints.settings import Settings

pytestmark = pytest.mark.integration
DAY = date(2024, 3, 4)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _candles(symbol: str, base: int, tick: Decimal) -> list[Candle]:
    start = int(datetime(DAY.year, DAY.month, DAY.day, tzinfo=UTC).timestamp() * 1000)
    candles = []
    for minute in range(1440):
        open_ = Decimal(base + (minute % 7)) * tick * 10
        close = open_ + tick * (1 if minute % 2 else -1)
        candles.append(
            Candle(
                symbol=symbol,
                open_time=start + minute * 60_000,
                open=open_,
                high=max(open_, close) + tick,
                low=min(open_, close) - tick,
                close=close,
                volume=Decimal("1.5"),
            )
        )
    return candles


def _env(data_dir: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRADESIM_", "ENVIRONMENT", "DEBUG"))}
    env.update({"TRADESIM_DATA_DIR": str(data_dir), "TRADESIM_HTTP_PORT": str(port), "PYTHONUNBUFFERED": "1"})
    return env


def _serve(env: dict[str, str], *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tradesim.entrypoints.cli.main", "serve", *extra],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_serve_refuses_a_replay_feed_with_no_stored_history(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tradesim.entrypoints.cli.main", "serve", "--feed", "replay"],
        env=_env(tmp_path, _free_port()),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "no stored history for BTCUSDT, ETHUSDT" in result.stderr
    assert "tradesim history backfill" in result.stderr


async def _store_history(data_dir: Path) -> None:
    container = await start_container(Settings.from_env({"TRADESIM_DATA_DIR": str(data_dir)}))
    candles = _candles("BTCUSDT", 3000, Decimal("0.1")) + _candles("ETHUSDT", 200, Decimal("0.01"))
    sync = HistorySync(
        ListHistorySource(candles),
        container.storage.candle_store(),
        container.persistence.unit_of_work,
        container.core.clock(),
    )
    report = await sync.backfill("BTCUSDT", DAY, DAY)
    assert report.exit_code == 0, report.summary()
    await sync.backfill("ETHUSDT", DAY, DAY)
    await stop_container(container)


def test_serve_plays_stored_history_and_a_market_order_fills_at_a_played_price(tmp_path: Path) -> None:
    asyncio.run(_store_history(tmp_path))
    port = _free_port()
    process = _serve(_env(tmp_path, port), "--feed", "replay", "--replay-speed", "20")
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=10) as client:

            def ready() -> bool:
                assert process.poll() is None, process.stdout.read() if process.stdout else ""
                return client.get("/readyz").status_code == 200

            wait_for(ready, 60, "serve to answer /readyz")
            credentials = {"email": "trader@example.com", "password": "a long password"}
            assert client.post("/api/v1/auth/register", json=credentials).status_code == 201
            token = client.post("/api/v1/auth/login", json=credentials).json()["accessToken"]
            client.headers["Authorization"] = f"Bearer {token}"
            account = client.post("/api/v1/accounts", json={"name": "Main", "startingBalance": "10000"}).json()
            order = {"accountId": account["accountId"], "symbol": "BTCUSDT", "side": "Buy", "orderType": "Market"}

            def decided(order_id: str) -> dict[str, str] | None:
                status: dict[str, str] = client.get(f"/api/v1/orders/{order_id}").json()
                return None if status["orderStatus"] == "New" else status

            def filled_market_order() -> str | None:
                """Refused until the feed has delivered a price: then it fills."""
                placed = client.post("/api/v1/orders", json={**order, "qty": "0.010"}).json()
                status = wait_for(lambda: decided(placed["orderId"]), 30, "the order to be decided")
                if status["orderStatus"] == "Filled":
                    return str(placed["orderId"])
                assert status["rejectReason"] == "NO_MARKET_PRICE", status
                return None

            order_id = wait_for(filled_market_order, 60, "a market order to fill at a played price", every=0.3)
            executions = client.get("/api/v1/executions", params={"accountId": account["accountId"]}).json()["list"]
            [fill] = [e for e in executions if e["orderId"] == order_id]
            played = {p for c in _candles("BTCUSDT", 3000, Decimal("0.1")) for p in (c.open, c.high, c.low, c.close)}
            assert Decimal(fill["execPrice"]) in played
            assert Decimal(fill["execQty"]) == Decimal("0.010")

            # Bar Replay runs in the same process, on the same stored day.
            start = int(datetime(DAY.year, DAY.month, DAY.day, 10, tzinfo=UTC).timestamp() * 1000)
            created = client.post("/api/v1/replays", json={"symbol": "BTCUSDT", "start": start, "speed": "1"})
            assert created.status_code == 201, created.text
            replay_id = created.json()["replayId"]
            stepped = client.post(f"/api/v1/replays/{replay_id}/control", json={"action": "step"})
            assert stepped.status_code == 200, stepped.text
            session = client.get(f"/api/v1/replays/{replay_id}").json()
            assert session["barsPlayed"] == 1
            bar = _candles("BTCUSDT", 3000, Decimal("0.1"))[600]  # 10:00 UTC
            assert session["lastCandle"]["start"] == bar.open_time
            assert Decimal(session["lastCandle"]["close"]) == bar.close
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert "tradesim serving on http://127.0.0.1:" in output
