"""Metrics (a Prometheus registry per app), request ids and structured access logs."""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import re
import sys
import time
from collections.abc import Iterator
from typing import Any

import msgspec
import structlog
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import HistogramMetricFamily, Metric
from quart import Quart, Response, g, request
from quart.wrappers.response import DataBody

from tradesim.entrypoints.heap import GcPauses

REQUEST_ID_HEADER = "X-Request-ID"
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9_.:\-]{1,128}")
#: The methods a label may name; anything else a client makes up counts as "OTHER" (a label value per
#: made-up method would grow the registry without bound, and every scrape with it).
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
#: A response body this small fits the socket's write buffer (64 KiB before it pushes back).
SMALL_BODY = 16 * 1024

log = structlog.get_logger("tradesim.api")


class ApiMetrics:
    """What an operator watches; one registry per app so tests and co-hosted apps never share counters."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.open_websockets = Gauge(
            "tradesim_open_websockets", "WebSocket connections currently open", registry=self.registry
        )
        self.request_latency = Histogram(
            "tradesim_http_request_duration_seconds",
            "HTTP request latency by route and status",
            ["method", "route", "status"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
            registry=self.registry,
        )
        self.orders_accepted = Counter(
            "tradesim_orders_accepted", "Orders recorded and queued by the api", registry=self.registry
        )
        self.fills_pushed = Counter(
            "tradesim_fills_pushed", "Executions pushed to WebSocket subscribers", registry=self.registry
        )
        self.ws_frames = Counter(
            "tradesim_ws_frames_queued", "Frames queued to WebSocket connections", registry=self.registry
        )
        self.slow_consumers = Counter(
            "tradesim_ws_slow_consumers_closed",
            "Connections closed because their send queue overflowed",
            registry=self.registry,
        )

        #: Filled while the app serves (its `while_serving` installs the callback).
        self.gc_pauses = GcPauses()
        self.registry.register(GcPauseCollector(self.gc_pauses))
        # The latency histogram's child per (method, route, status): `labels` looks one up under
        # a lock on every call, and the set is small (routes are rules, not paths).
        self._latency_of: dict[tuple[str, str, int], Any] = {}

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        child = self._latency_of.get(key)
        if child is None:
            child = self._latency_of[key] = self.request_latency.labels(method, route, str(status))
        child.observe(seconds)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)

    async def scrape(self) -> bytes:
        """The exposition, written on a thread: a scrape never holds the event loop (prometheus_client's
        metrics take their own locks, so observing them meanwhile is safe)."""
        return await asyncio.to_thread(generate_latest, self.registry)


class GcPauseCollector:
    """`tradesim_gc_pause_seconds`: the garbage collector's pauses by generation, read from
    `GcPauses` at scrape time (observing a metric from the collector's callback could deadlock)."""

    def __init__(self, pauses: GcPauses) -> None:
        self._pauses = pauses

    def collect(self) -> Iterator[Metric]:
        family = HistogramMetricFamily(
            "tradesim_gc_pause_seconds",
            "Pauses of the cyclic garbage collector, by generation: the event loop stands still meanwhile",
            labels=["generation"],
        )
        bounds = [*(str(b) for b in self._pauses.buckets), "+Inf"]
        for generation, cumulative, total in self._pauses.snapshot():
            family.add_metric([str(generation)], list(zip(bounds, cumulative, strict=True)), total)
        yield family


_LOG_ENCODER = msgspec.json.Encoder(enc_hook=repr)


def _json_line(event: object, **_: object) -> str:
    # msgspec rather than the standard library: a line per request; what JSON cannot hold, as repr.
    return _LOG_ENCODER.encode(event).decode()


def configure_logging(*, json: bool = True, level: int = logging.INFO) -> None:
    """structlog to stdout, one JSON object per line, with the request id bound by the request hooks."""
    processors: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        structlog.processors.JSONRenderer(serializer=_json_line) if json else structlog.dev.ConsoleRenderer(),
    ]
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(sys.stdout),
        cache_logger_on_first_use=True,
    )


#: Ids of requests and pushes: this process's random prefix and a counter, 32 hex digits like a
#: UUID's, unique across processes without a system call each (uuid4 reads the kernel's random
#: source, and an api process makes one per request and one per push).
_ID_PREFIX = os.urandom(8).hex()
_ID_COUNTER = itertools.count()


def new_message_id() -> str:
    return f"{_ID_PREFIX}{next(_ID_COUNTER):016x}"


def request_id_for(incoming: str) -> str:
    """The client's request id when it is a safe one, else a new one."""
    return incoming if _SAFE_REQUEST_ID.fullmatch(incoming) else new_message_id()


def record_request(
    metrics: ApiMetrics, method: str, route: str, status: int, elapsed: float, user_id: str | None
) -> None:
    """A finished request in the latency histogram and the access log."""
    metrics.observe_request(method if method in KNOWN_METHODS else "OTHER", route, status, elapsed)
    log.info(
        "request",
        method=method[:32],
        route=route,
        status=status,
        duration_ms=round(elapsed * 1000, 3),
        user_id=user_id,
    )


def install_request_hooks(app: Quart, metrics: ApiMetrics) -> None:
    @app.before_request
    async def _start() -> None:
        g.request_id = request_id_for(request.headers.get(REQUEST_ID_HEADER, ""))
        g.started = time.perf_counter()
        # Each request runs in a task of its own, on a copy of the server's context: what a
        # request binds never reaches another, so there is nothing to clear first.
        structlog.contextvars.bind_contextvars(request_id=g.request_id)

    @app.after_request
    async def _finish(response: Response) -> Response:
        request_id = getattr(g, "request_id", None) or new_message_id()
        response.headers[REQUEST_ID_HEADER] = request_id
        if isinstance(response.response, DataBody) and len(response.response.data) <= SMALL_BODY:
            # Written to the socket at once, whoever reads it: Quart's bound on sending a
            # response (RESPONSE_TIMEOUT) would cost a task of its own per request.
            response.timeout = None
        started = getattr(g, "started", None)
        elapsed = time.perf_counter() - started if started is not None else 0.0
        # Label by route rule, never the raw path: ids in paths would explode the label set.
        route = request.url_rule.rule if request.url_rule is not None else "(unmatched)"
        record_request(metrics, request.method, route, response.status_code, elapsed, getattr(g, "user_id", None))
        return response
