"""Bybit's and Bitget's public candle endpoints, served over real HTTP on loopback.

Each server holds candles, answers exactly as the exchange documents (Bybit: newest first,
at most `limit` rows, strings everywhere, `retCode`; Bitget: ascending, `code` "00000"), and
plays scripted faults first: a queued `Fault` answers the next request instead of the data.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import attrs

from tradesim.domain.market import Candle


@attrs.frozen
class Fault:
    """An answer to give instead of data: an HTTP status, a body, extra headers."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = attrs.field(factory=dict)


@attrs.define
class Request:
    path: str
    params: dict[str, str]


class FakeExchange:
    def __init__(self, candles: Iterable[Candle] = (), *, server_time: int = 0) -> None:
        self.candles = sorted(candles, key=lambda c: (c.symbol, c.open_time))
        self.server_time = server_time
        self.faults: deque[Fault] = deque()
        self.requests: list[Request] = []
        self.headers: dict[str, str] = {}
        self.url = ""
        self._lock = threading.Lock()

    def answer(self, path: str, params: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        with self._lock:
            self.requests.append(Request(path, params))
            if self.faults:
                fault = self.faults.popleft()
                return fault.status, fault.body, fault.headers
        return self.route(path, params)

    def route(self, path: str, params: dict[str, str]) -> tuple[int, Any, dict[str, str]]:  # pragma: no cover
        raise NotImplementedError

    def select(self, symbol: str, start: int, end: int) -> list[Candle]:
        return [c for c in self.candles if c.symbol == symbol and start <= c.open_time <= end]


class FakeBybit(FakeExchange):
    def route(self, path: str, params: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        if path != "/v5/market/kline":
            return 404, {"retCode": 404, "retMsg": "not found"}, {}
        if params.get("interval") != "1" or "symbol" not in params:
            return 200, {"retCode": 10001, "retMsg": "params error", "result": {}, "retExtInfo": {}}, {}
        limit = min(int(params.get("limit", "200")), 1000)
        end = int(params.get("end", str(self.server_time)))
        start = int(params.get("start", "0"))
        chosen = self.select(params["symbol"], start, end)[-limit:][::-1]  # the newest `limit`, newest first
        rows = [
            [str(c.open_time), str(c.open), str(c.high), str(c.low), str(c.close), str(c.volume), str(c.turnover or 0)]
            for c in chosen
        ]
        body = {
            "retCode": 0,
            "retMsg": "OK",
            "result": {"category": params.get("category", "linear"), "symbol": params["symbol"], "list": rows},
            "retExtInfo": {},
            "time": self.server_time,
        }
        return 200, body, dict(self.headers)


class FakeBitget(FakeExchange):
    PATHS = (
        "/api/v2/mix/market/candles",
        "/api/v2/mix/market/history-candles",
        "/api/v2/spot/market/candles",
        "/api/v2/spot/market/history-candles",
    )

    def route(self, path: str, params: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        if path not in self.PATHS:
            return 404, {"code": "40404", "msg": "Request URL NOT FOUND"}, {}
        cap = 200 if "history" in path else 1000
        limit = min(int(params.get("limit", "100")), cap)
        start, end = int(params["startTime"]), int(params["endTime"])
        chosen = self.select(params["symbol"], start, end)[-limit:]
        rows = [
            [str(c.open_time), str(c.open), str(c.high), str(c.low), str(c.close), str(c.volume), str(c.turnover or 0)]
            for c in chosen
        ]
        body = {"code": "00000", "msg": "success", "requestTime": self.server_time, "data": rows}
        return 200, body, {}


def _handler(exchange: FakeExchange) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            status, body, headers = exchange.answer(parts.path, dict(parse_qsl(parts.query)))
            payload = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: object) -> None:
            return

    return Handler


@contextmanager
def serving(exchange: FakeExchange) -> Iterator[FakeExchange]:
    """Serve `exchange` on a free loopback port (its `url`) for the duration."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(exchange))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    exchange.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield exchange
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
