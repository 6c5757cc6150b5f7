"""Order -> execution push through the Bybit-compatible api (ccxt + `/v5/private`) beside the same
through `/api/v1` + `/ws`, in the same run, on the same processes.

A fresh PostgreSQL database and Redis namespace get one `tradesim api` and one `tradesim worker`
(the integration tests' harness, `tests/support/realtime.py`) while a thread publishes BTCUSDT
tickers on Redis as the streamer would. One user has two accounts: one traded through `/api/v1`
(aiohttp POST /api/v1/orders, pushes on `/ws`), the other through `/v5` with an API key (the real
ccxt's async client, `create_order` with its own signing, pushes on `/v5/private` after Bybit's
`op:auth`). Each path runs in turn (`--rounds` times, the order reversed every other round, so
that drift in the machine's load and the order itself hit every path alike), sending market
orders open loop at `--rate` per second for `--seconds`, alternating Buy and Sell. Latency is
from just before the order is sent to the receipt of the execution push naming its `orderLinkId`,
on the client's clock; the first `WARMUP_S` of each phase is not counted. A third path sends the
/v5 orders with aiohttp and Bybit's signing done here, without ccxt: the server's share of the
difference, apart from ccxt's own cost on the client.
Printed per path: orders, pushes, p50/p99/max in ms, CPU per order of the api process and of
this client process; then each /v5 path's p50 and p99 as a ratio of /api/v1's (the ccxt one
against the target of 1.10).

    uv run python bench/bybit_api.py                                  # 100 orders/s, 10 s, 2 rounds
    uv run python bench/bybit_api.py --rate 20 --seconds 2 --rounds 1  # the smallest run (seconds)

PostgreSQL: TRADESIM_BENCH_DATABASE_URL, else TRADESIM_TEST_DATABASE_URL, else the local server;
Redis: TRADESIM_TEST_REDIS_URL, else redis://127.0.0.1:6379/0.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import ccxt.async_support as ccxt_async

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the process harness lives with the tests

from tests import services  # noqa: E402
from tests.support.realtime import Stack, TickerPump, Trader, wait_for  # noqa: E402

from tradesim.adapters.sqlalchemy.migrate import upgrade_to_head  # noqa: E402

WARMUP_S = 1.0
TARGET_RATIO = 1.10
QTY = "0.001"


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Pushes:
    """When each orderLinkId's execution push arrived (the first one only)."""

    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}
        self.changed = asyncio.Event()

    def take(self, text: str) -> None:
        message = json.loads(text)
        if message.get("topic") == "execution":
            now = time.perf_counter()
            for fill in message["data"]:
                self.arrived.setdefault(fill.get("orderLinkId", ""), now)
            self.changed.set()

    async def wait_for(self, links: set[str], within: float) -> None:
        deadline = time.perf_counter() + within
        while not links <= self.arrived.keys() and time.perf_counter() < deadline:
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), max(0.0, deadline - time.perf_counter()))
            except TimeoutError:
                return


async def _listen(ws: aiohttp.ClientWebSocketResponse, pushes: Pushes) -> None:
    async for message in ws:
        if message.type is aiohttp.WSMsgType.TEXT:
            pushes.take(message.data)


async def _open_loop(send: Any, prefix: str, rate: int, seconds: float, pushes: Pushes) -> dict[str, Any]:
    sent: dict[str, float] = {}
    tasks = []
    start = time.perf_counter()
    for i in range(int(rate * seconds)):
        due = start + i / rate
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        link = f"{prefix}-{i}"
        sent[link] = time.perf_counter()
        tasks.append(asyncio.ensure_future(send(link, "Buy" if i % 2 == 0 else "Sell")))
    await asyncio.gather(*tasks, return_exceptions=True)
    await pushes.wait_for(set(sent), within=10)
    failures = [t.exception() for t in tasks if t.exception() is not None]
    counted = [link for link, at in sent.items() if at - start >= WARMUP_S]
    latencies = [(pushes.arrived[link] - sent[link]) * 1000 for link in counted if link in pushes.arrived]
    return {"sent": len(sent), "counted": len(counted), "latencies": latencies, "failures": failures[:3]}


async def _v1_phase(
    base_url: str, token: str, account_id: str, prefix: str, rate: int, seconds: float
) -> dict[str, Any]:
    pushes = Pushes()
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        aiohttp.ClientSession(base_url=base_url, headers=headers) as http,
        http.ws_connect(f"/ws?token={token}") as ws,
    ):
        await ws.receive()  # the auth answer
        await ws.send_str(json.dumps({"op": "subscribe", "args": ["execution"]}))
        await ws.receive()
        listener = asyncio.ensure_future(_listen(ws, pushes))

        async def send(link: str, side: str) -> None:
            body = {"accountId": account_id, "symbol": "BTCUSDT", "side": side, "orderType": "Market", "qty": QTY}
            async with http.post("/api/v1/orders", json=body | {"orderLinkId": link}) as response:
                # Read as the /v5 legs read theirs: every leg's client parses the answer it got.
                answer = await response.json()
                if response.status != 201:
                    raise RuntimeError(f"{response.status} {answer}")

        try:
            return await _open_loop(send, prefix, rate, seconds, pushes)
        finally:
            listener.cancel()


async def _v5_phase(
    base_url: str, exchange: Any, key: dict[str, str], prefix: str, rate: int, seconds: float, send: Any = None
) -> dict[str, Any]:
    pushes = Pushes()
    async with (
        aiohttp.ClientSession() as http,
        http.ws_connect(base_url.replace("http://", "ws://") + "/v5/private") as ws,
    ):
        expires = str(int(time.time() * 1000) + 10_000)
        signature = hmac.new(key["apiSecret"].encode(), f"GET/realtime{expires}".encode(), hashlib.sha256)
        await ws.send_str(json.dumps({"op": "auth", "args": [key["apiKey"], expires, signature.hexdigest()]}))
        assert json.loads((await ws.receive()).data)["success"] is True
        await ws.send_str(json.dumps({"op": "subscribe", "req_id": "1", "args": ["execution"]}))
        assert json.loads((await ws.receive()).data)["success"] is True
        listener = asyncio.ensure_future(_listen(ws, pushes))

        async def create(link: str, side: str) -> None:
            await exchange.create_order(
                "BTC/USDT:USDT", "market", side.lower(), float(QTY), None, {"orderLinkId": link}
            )

        try:
            return await _open_loop(send or create, prefix, rate, seconds, pushes)
        finally:
            listener.cancel()


async def _v5_raw_phase(base_url: str, key: dict[str, str], prefix: str, rate: int, seconds: float) -> dict[str, Any]:
    """The /v5 path without ccxt: aiohttp with Bybit's signing done here (the server's share alone)."""

    async with aiohttp.ClientSession(base_url=base_url) as http:

        async def send(link: str, side: str) -> None:
            body = json.dumps(
                {"category": "linear", "symbol": "BTCUSDT", "side": side, "orderType": "Market", "qty": QTY}
                | {"orderLinkId": link}
            )
            stamp = str(int(time.time() * 1000))
            signature = hmac.new(
                key["apiSecret"].encode(), (stamp + key["apiKey"] + "5000" + body).encode(), hashlib.sha256
            ).hexdigest()
            headers = {
                "X-BAPI-API-KEY": key["apiKey"],
                "X-BAPI-TIMESTAMP": stamp,
                "X-BAPI-RECV-WINDOW": "5000",
                "X-BAPI-SIGN": signature,
                "Content-Type": "application/json",
            }
            async with http.post("/v5/order/create", data=body, headers=headers) as response:
                answer = await response.json()
                if answer["retCode"] != 0:
                    raise RuntimeError(str(answer))

        return await _v5_phase(base_url, None, key, prefix, rate, seconds, send=send)


async def _measure(api: Any, users: dict[str, Any], rate: int, seconds: float, rounds: int) -> dict[str, list[Any]]:
    urls = dict.fromkeys(("spot", "futures", "v2", "public", "private"), api.base_url)
    key = users["key"]
    exchange = ccxt_async.bybit(
        {"apiKey": key["apiKey"], "secret": key["apiSecret"], "urls": {"api": urls}, "enableRateLimit": False}
    )
    results: dict[str, list[Any]] = {"/api/v1 + /ws": [], "ccxt + /v5/private": [], "signed HTTP + /v5/private": []}
    try:
        await exchange.load_markets()
        await exchange.fetch_balance()  # ccxt's start-up calls, out of the measurement
        for n in range(rounds):
            # Reversed every other round: a path that always ran first (or right after another)
            # would carry whatever the order does to it (a cache warm, a table grown) alone.
            for path in list(results)[:: -1 if n % 2 else 1]:
                cpu, client_cpu = _cpu_seconds(api.pid), time.process_time()
                if path.startswith("/api/v1"):
                    result = await _v1_phase(api.base_url, users["token"], users["v1"], f"v1r{n}", rate, seconds)
                elif path.startswith("ccxt"):
                    result = await _v5_phase(api.base_url, exchange, key, f"v5r{n}", rate, seconds)
                else:
                    result = await _v5_raw_phase(api.base_url, key, f"raw{n}", rate, seconds)
                sent = max(result["sent"], 1)
                result["api_cpu_ms_per_order"] = (_cpu_seconds(api.pid) - cpu) * 1000 / sent
                result["client_cpu_ms_per_order"] = (time.process_time() - client_cpu) * 1000 / sent
                results[path].append(result)
    finally:
        await exchange.close()
    return results


def run(database_server: str, redis_url: str, rate: int, seconds: float, rounds: int) -> dict[str, list[Any]]:
    with services.fresh_postgres_database(database_server) as database_url, tempfile.TemporaryDirectory() as tmp:
        upgrade_to_head(database_url)
        stack = Stack(
            database_url, redis_url, Path(tmp), extra_env={"TRADESIM_BYBIT_RATE_LIMIT": str(max(50, 4 * rate))}
        )
        try:
            with TickerPump(redis_url, stack.namespace, ("BTCUSDT",), interval=0.1) as pump:
                api = stack.api()
                stack.worker()
                trader = Trader(api.base_url, "bench@example.com")
                v1 = trader.open_account("v1", deposit="10000000")
                v5 = trader.open_account("v5", deposit="10000000")
                key = trader.client.post("/api/v1/api-keys", json={"accountId": v5}).json()
                users = {"token": trader.token, "v1": v1, "key": key}
                trader.close()
                wait_for(lambda: pump.sent >= 5, 10, "prices to flow")
                return asyncio.run(_measure(api, users, rate, seconds, rounds))
        finally:
            stack.stop_all()


def _percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else (values or [0])[0]


def report(results: dict[str, list[Any]], rate: int) -> None:
    summary = {}
    for path, phases in results.items():
        latencies = [x for phase in phases for x in phase["latencies"]]
        counted = sum(p["counted"] for p in phases)
        failures = [f for p in phases for f in p["failures"]]
        cpu = statistics.fmean(p["api_cpu_ms_per_order"] for p in phases)
        client_cpu = statistics.fmean(p["client_cpu_ms_per_order"] for p in phases)
        p50, p99 = _percentile(latencies, 50), _percentile(latencies, 99)
        summary[path] = (p50, p99)
        print(
            f"{path:20} {rate}/s: {sum(p['sent'] for p in phases)} orders, {len(latencies)}/{counted} pushes counted, "
            f"p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {max(latencies, default=0):.1f} ms; "
            f"CPU per order: api {cpu:.2f} ms, client {client_cpu:.2f} ms"
            + (f"; failures: {failures}" if failures else "")
        )
    b50, b99 = summary["/api/v1 + /ws"]
    for path in ("ccxt + /v5/private", "signed HTTP + /v5/private"):
        v50, v99 = summary[path]
        ratio50, ratio99 = v50 / b50 if b50 else 0, v99 / b99 if b99 else 0
        verdict = "PASS" if ratio50 <= TARGET_RATIO and ratio99 <= TARGET_RATIO else "FAIL"
        target = f"(target <= x{TARGET_RATIO:.2f}): {verdict}" if path.startswith("ccxt") else "(the server's share)"
        print(f"{path} vs /api/v1 + /ws: p50 x{ratio50:.2f}, p99 x{ratio99:.2f} {target}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=int, default=100, help="orders per second on each path")
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds each path sends per round")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of (/api/v1, /v5), alternating")
    parser.add_argument("--smallest", action="store_true", help="the test suite's run: 20/s, 2 s, one round")
    args = parser.parse_args()
    if args.smallest:
        args.rate, args.seconds, args.rounds = 20, 2.0, 1
    server = (
        os.environ.get("TRADESIM_BENCH_DATABASE_URL")
        or os.environ.get("TRADESIM_TEST_DATABASE_URL")
        or "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
    )
    redis_url = os.environ.get("TRADESIM_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    load = os.getloadavg()[0]
    print(f"order -> execution push, /api/v1 + /ws beside ccxt + /v5/private; {os.cpu_count()} CPUs; load {load:.1f}")
    report(run(server, redis_url, args.rate, args.seconds, args.rounds), args.rate)


if __name__ == "__main__":
    main()
