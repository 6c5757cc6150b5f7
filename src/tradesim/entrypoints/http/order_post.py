"""POST /api/v1/orders straight on ASGI: the api's hottest request without the framework around it.

Placing an order is most of what the api does under load, and most of its CPU went to Quart's
machinery around the view (the request and app contexts, a dozen hooks, the routing, the
response object and its conversions), not to the order. `OrderPost` answers the ordinary
order itself, with the very pieces the full path uses (the body's parsing and its model, the
bearer check, `place_command`, `OrderService.place`, the presenter, the JSON provider, the
request id, the security headers, the latency metric and the access log), so the answer is the
same, byte for byte.

Anything out of the ordinary goes to the app unread or, once the body is read, with the body
replayed: another content type, a body too large, malformed or not of the model's shape, an
unknown field, a missing or bad token, a request on the metrics port. There the full path
refuses it in its own words. A refusal of `OrderService.place` itself (a rule the order breaks,
an account not the user's) is answered here as the app's error handler answers it: by then the
order may have been recorded, so it must not be placed a second time.
"""

from __future__ import annotations

import time
from typing import Any

import attrs
import msgspec
import structlog
from quart import Quart

from tradesim.application.auth import AuthService
from tradesim.application.orders import OrderService
from tradesim.domain.errors import TradesimError
from tradesim.entrypoints.http import errors, presenters
from tradesim.entrypoints.http.asgi import (
    REQUEST_ID,
    ASGIApp,
    Gate,
    Receive,
    Send,
    fixed_headers,
    pass_on,
    send_json,
)
from tradesim.entrypoints.http.json_provider import MsgspecJSONProvider
from tradesim.entrypoints.http.observability import ApiMetrics, record_request, request_id_for
from tradesim.entrypoints.http.routes.orders import place_command
from tradesim.entrypoints.http.schemas.orders import OrderCreate
from tradesim.entrypoints.http.security import bearer_token
from tradesim.ports.security import Unauthenticated

PATH = "/api/v1/orders"
#: The route's rule, as the full path labels its metric and access log.
ROUTE = PATH
KNOWN_FIELDS = frozenset(field.name for field in attrs.fields(OrderCreate))

log = structlog.get_logger("tradesim.api")

_FIXED_HEADERS = fixed_headers(PATH)


def _bearing_a_token(headers: dict[bytes, bytes]) -> bool:
    return b"authorization" in headers


class _NotOurs(Exception):
    """The request goes to the app (the full path answers it)."""


class OrderPost:
    """ASGI middleware: POST /api/v1/orders answered here, everything else passed to `inner`."""

    def __init__(
        self,
        inner: ASGIApp,
        *,
        app: Quart,
        orders: OrderService,
        auth: AuthService,
        metrics: ApiMetrics,
        max_body: int,
        metrics_port: int | None,
    ) -> None:
        #: The app behind: what answers every other request (and any unusual order POST).
        self.inner = inner
        assert isinstance(app.json, MsgspecJSONProvider), "the app writes its JSON with msgspec"
        self._json = app.json
        self._orders = orders
        self._auth = auth
        self._metrics = metrics
        self._gate = Gate(PATH, max_body=max_body, metrics_port=metrics_port, admits=_bearing_a_token)

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        taken = await self._gate.take(scope, receive, send, self.inner)
        if taken is None:
            return
        headers, body, started = taken
        try:
            user_id, data = self._check(headers, body)
        except _NotOurs:
            await pass_on(self.inner, scope, body, receive, send)
            return
        request_id = request_id_for(headers.get(REQUEST_ID, b"").decode("latin-1"))
        structlog.contextvars.bind_contextvars(request_id=request_id)
        status, extra, answer = await self._place(user_id, data)
        await send_json(send, status, answer, extra, _FIXED_HEADERS, request_id)
        record_request(self._metrics, "POST", ROUTE, status, time.perf_counter() - started, user_id)

    def _check(self, headers: dict[bytes, bytes], body: bytes) -> tuple[str, OrderCreate]:
        """The user and the order the request asks for; `_NotOurs` for anything the app refuses."""
        try:
            body.decode("utf-8")
            raw = self._json.loads(body)
            if not isinstance(raw, dict) or not KNOWN_FIELDS.issuperset(raw):
                raise _NotOurs
            # What quart_schema's `model_load` calls for an attrs model, without its look at which
            # library the model is for (pydantic's checks cost more than the conversion).
            data = msgspec.convert(raw, OrderCreate, strict=False)
            user_id = self._auth.authenticate(bearer_token(headers[b"authorization"].decode("latin-1")))
        except (ValueError, TypeError, Unauthenticated) as error:  # msgspec.ValidationError: a ValueError
            raise _NotOurs from error
        return user_id, data

    async def _place(self, user_id: str, data: OrderCreate) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        """The status, its extra headers and the body answered."""
        try:
            placed = await self._orders.place(user_id, place_command(data))
        except TradesimError as error:
            status, extra = errors.refusal_of(error)
            encoded = [(name.lower().encode(), value.encode()) for name, value in extra.items()]
            return status, encoded, self._error_body(error.code, error.message)
        except Exception as error:
            log.exception("unhandled_error", error_type=type(error).__name__)
            return 500, [], self._error_body(errors.UNEXPECTED_CODE, errors.UNEXPECTED_MESSAGE)
        if placed.created:
            self._metrics.orders_accepted.inc()
        # As the JSON provider writes a view's answer (a newline after it); msgspec writes the
        # attrs model itself (keys sorted) as it writes quart_schema's `model_dump` of it.
        return 201 if placed.created else 200, [], self._json.encode(presenters.order(placed.order)) + b"\n"

    def _error_body(self, code: str, message: str) -> bytes:
        # As `errors.error_response` writes it.
        return self._json.dumps(errors.error_document(code, message)).encode()
