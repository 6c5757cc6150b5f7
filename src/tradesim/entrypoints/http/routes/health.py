"""GET /healthz, /readyz, /metrics."""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Sequence

from dependency_injector.wiring import Provide, inject
from quart import Blueprint, Response, request
from quart_schema import tag_blueprint, validate_response
from werkzeug.exceptions import NotFound

from tradesim.entrypoints.container import Container
from tradesim.entrypoints.http.observability import ApiMetrics
from tradesim.entrypoints.http.openapi import openapi_extra
from tradesim.entrypoints.http.schemas.health import Alive, Readiness
from tradesim.entrypoints.settings import Settings
from tradesim.ports.health import HealthCheck
from tradesim.ports.security import Unauthenticated

bp = Blueprint("health", __name__)
tag_blueprint(bp, ["operations"])

READY_TIMEOUT_S = 2.0
METRICS_RESPONSE = {
    "responses": {
        200: {"description": "Prometheus text exposition", "content": {"text/plain": {"schema": {"type": "string"}}}}
    }
}


@bp.get("/healthz")
@validate_response(Alive, 200)
async def healthz() -> Alive:
    """The process is alive (it answers; says nothing about dependencies)."""
    return Alive()


@bp.get("/readyz")
@validate_response(Readiness, 200)
@validate_response(Readiness, 503)
@inject
async def readyz(
    checks: Sequence[HealthCheck] = Provide[Container.health_checks],
    redis_url: str | None = Provide[Container.core.settings.provided.redis_url],
) -> tuple[Readiness, int]:
    """Ready to serve: the database (and Redis, when configured) answer within 2 s."""
    results = dict(await asyncio.gather(*(_run(check) for check in checks)))
    if "redis" not in results:
        results["redis"] = "not configured" if not redis_url else "no check registered"
    ready = all(v in ("ok", "not configured") for v in results.values())
    return Readiness(status="ok" if ready else "unavailable", checks=results), 200 if ready else 503


async def _run(check: HealthCheck) -> tuple[str, str]:
    try:
        await asyncio.wait_for(check.check(), READY_TIMEOUT_S)
    except TimeoutError:
        return check.name, f"no answer within {READY_TIMEOUT_S:g} s"
    except Exception as error:
        return check.name, f"unavailable: {error}"
    return check.name, "ok"


@bp.get("/metrics")
@openapi_extra(METRICS_RESPONSE)
@inject
async def metrics(
    api_metrics: ApiMetrics = Provide[Container.api.metrics], settings: Settings = Provide[Container.settings]
) -> Response:
    """Prometheus metrics of this process: open WebSockets, request latency, orders accepted, fills pushed,
    garbage collector pauses. On `TRADESIM_METRICS_PORT` only when that is set; with the bearer token
    `TRADESIM_METRICS_TOKEN` only when that is set."""
    if settings.metrics_port is not None and server_port() != settings.metrics_port:
        raise NotFound()
    if settings.metrics_token is not None:
        _, _, token = request.headers.get("Authorization", "").partition(" ")
        if not hmac.compare_digest(token.strip().encode(), settings.metrics_token.encode()):
            raise Unauthenticated("send the metrics token as 'Authorization: Bearer <token>'")
    return Response(await api_metrics.scrape(), content_type="text/plain; version=0.0.4; charset=utf-8")


def server_port() -> int | None:
    """The port the request came in on (hypercorn binds the api's and, when set, the metrics port)."""
    server = request.scope.get("server")
    return int(server[1]) if server and server[1] is not None else None
