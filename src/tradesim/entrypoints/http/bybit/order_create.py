"""POST /v5/order/create straight on ASGI, as `order_post.OrderPost` answers POST /api/v1/orders:
what a Bybit bot does most, without Quart's machinery around the view.

The ordinary signed order is answered here with the very pieces the route uses (`authenticate`,
`admit`, `parse_body`, `create_order`, the refusals' retCodes, the envelope, the JSON provider, the
request id, the security headers, the latency metric and the access log), so the answer is the
same, byte for byte, refusals included: a stale window, an unknown key, a bad signature, the
key's limit, a read-only key, a bad parameter, a rule the order breaks.

Anything out of the ordinary goes to the app unread or, once the body is read, with the body
replayed: another content type, a body too large or not UTF-8, a request without a key or with
a header sent twice, a request on the metrics port. There the full path answers it in its own words.
"""

from __future__ import annotations

import time
from typing import Any

import structlog
from quart import Quart

from tradesim.domain.errors import TradesimError
from tradesim.entrypoints.http.asgi import (
    REPEATED,
    REQUEST_ID,
    ASGIApp,
    Gate,
    Receive,
    Send,
    fixed_headers,
    pass_on,
    send_json,
)
from tradesim.entrypoints.http.bybit import setup, trade
from tradesim.entrypoints.http.bybit.context import BybitServices, admit, authenticate, refused
from tradesim.entrypoints.http.bybit.envelope import SERVER, UNEXPECTED_MESSAGE, BybitRefusal, document
from tradesim.entrypoints.http.bybit.params import Params, parse_body
from tradesim.entrypoints.http.json_provider import MsgspecJSONProvider
from tradesim.entrypoints.http.observability import ApiMetrics, record_request, request_id_for

PATH = setup.PREFIX + trade.PREFIX + trade.CREATE
#: The route's rule, as the full path labels its metric and access log.
ROUTE = PATH

log = structlog.get_logger("tradesim.api")

_FIXED_HEADERS = fixed_headers(PATH)
_API_KEY = b"x-bapi-api-key"


def _signed_once(headers: dict[bytes, bytes]) -> bool:
    # A header sent twice: which one counts is the app's to say.
    return _API_KEY in headers and REPEATED not in headers.values()


class BybitOrderCreate:
    """ASGI middleware: POST /v5/order/create answered here, everything else passed to `inner`."""

    def __init__(
        self,
        inner: ASGIApp,
        *,
        app: Quart,
        services: BybitServices,
        metrics: ApiMetrics,
        max_body: int,
        metrics_port: int | None,
    ) -> None:
        #: The app behind: what answers every other request (and any unusual order/create).
        self.inner = inner
        assert isinstance(app.json, MsgspecJSONProvider), "the app writes its JSON with msgspec"
        self._json = app.json
        self._services = services
        self._metrics = metrics
        self._gate = Gate(PATH, max_body=max_body, metrics_port=metrics_port, admits=_signed_once)

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        taken = await self._gate.take(scope, receive, send, self.inner)
        if taken is None:
            return
        headers, body, started = taken
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:  # the app refuses it in its words
            await pass_on(self.inner, scope, body, receive, send)
            return
        request_id = request_id_for(headers.get(REQUEST_ID, b"").decode("latin-1"))
        structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            extra, answer, user_id = await self._answer(headers, body)
        except Exception as error:  # before the key was known (its lookup failed, say)
            (extra, answer), user_id = self._unexpected(error), None
        await send_json(send, 200, answer, extra, _FIXED_HEADERS, request_id)
        record_request(self._metrics, "POST", ROUTE, 200, time.perf_counter() - started, user_id)

    async def _answer(
        self, headers: dict[bytes, bytes], body: bytes
    ) -> tuple[list[tuple[bytes, bytes]], bytes, str | None]:
        """The limit headers, the body answered and the user the request log names: in the steps
        and words of `context.signed` around `trade.create`."""
        s = self._services
        try:
            key = await authenticate(s, lambda name: headers.get(name.lower().encode(), b"").decode("latin-1"), body)
        except (BybitRefusal, TradesimError) as error:
            return [], self._refusal(refused(error)), None
        status, refusing = await admit(s, key, trade=trade.CREATE_TRADES, group=trade.CREATE_GROUP)
        limit_headers = [(name.lower().encode(), value.encode()) for name, value in status.headers().items()]
        if refusing is not None:
            return limit_headers, self._refusal(refusing), None
        try:
            result = await trade.create_order(s, key, Params(parse_body(body)))
        except (BybitRefusal, TradesimError) as error:
            return limit_headers, self._refusal(refused(error)), key.user_id
        except Exception as error:
            return *self._unexpected(error), key.user_id
        return limit_headers, self._encode(0, "OK", result), key.user_id

    def _unexpected(self, error: Exception) -> tuple[list[tuple[bytes, bytes]], bytes]:
        # As the blueprint's handler of the unexpected: logged, the envelope without the limit headers.
        log.exception("unhandled_error", error_type=type(error).__name__)
        return [], self._refusal(BybitRefusal(SERVER, UNEXPECTED_MESSAGE))

    def _refusal(self, error: BybitRefusal) -> bytes:
        return self._encode(error.ret_code, error.message, None)

    def _encode(self, ret_code: int, message: str, result: Any) -> bytes:
        # As `envelope.envelope` writes it (the provider's `dumps`: no newline after it).
        return self._json.encode(document(ret_code, message, result, self._services.clock.now_ms()))
