"""What the layers answering a hot request straight on ASGI share (`order_post.OrderPost` for
POST /api/v1/orders, `bybit.order_create.BybitOrderCreate` for POST /v5/order/create): taking a
request as theirs or not, reading its body, handing it to the app with the body replayed, and
writing the answer with the headers the app's hooks would add."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple

from tradesim.entrypoints.http.headers import HEADERS, PRIVATE_PREFIXES
from tradesim.entrypoints.http.observability import REQUEST_ID_HEADER

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ASGIApp = Callable[[dict[str, Any], Receive, Send], Awaitable[None]]

JSON = b"application/json"
#: What `headers_of` gives for a header sent more than once.
REPEATED = b"\0repeated"
REQUEST_ID = REQUEST_ID_HEADER.lower().encode()


def is_post_to(scope: dict[str, Any], path: str) -> bool:
    """An HTTP POST to exactly `path`, with no root path (the app routes any other)."""
    return (
        scope["type"] == "http" and scope["path"] == path and scope["method"] == "POST" and not scope.get("root_path")
    )


def on_port(scope: dict[str, Any], port: int | None) -> bool:
    server = scope.get("server")
    return server is not None and port is not None and server[1] == port


def headers_of(scope: dict[str, Any]) -> dict[bytes, bytes]:
    """The request's headers by lower-case name; a repeated one counts as unusual (the app decides)."""
    found: dict[bytes, bytes] = {}
    for name, value in scope["headers"]:
        name = name.lower()
        if name in found:
            found[name] = REPEATED
        else:
            found[name] = value
    return found


def length_within(headers: dict[bytes, bytes], max_body: int) -> bool:
    """No declared length, or a well-formed one within `max_body`."""
    length = headers.get(b"content-length")
    return length is None or (length.isdigit() and int(length) <= max_body)


async def read_body(receive: Receive, max_body: int) -> tuple[bytes, bool, dict[str, Any] | None]:
    """The body so far; whether that is all of it; a message other than the body's that came."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":  # the client went away
            return b"".join(chunks), False, message
        chunk = message.get("body", b"")
        size += len(chunk)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), True, None
        if size > max_body:
            return b"".join(chunks), False, None


class Taken(NamedTuple):
    """A request a layer answers itself: its headers (`headers_of`), its whole body, when it began."""

    headers: dict[bytes, bytes]
    body: bytes
    started: float


class Gate:
    """Which requests a layer answers itself: ordinary JSON POSTs to `path` whose headers it `admits`.
    Set up once per layer; `inner` (the app) is asked for each request, as a layer's may change."""

    __slots__ = ("_admits", "_max_body", "_metrics_port", "_path")

    def __init__(
        self, path: str, *, max_body: int, metrics_port: int | None, admits: Callable[[dict[bytes, bytes]], bool]
    ) -> None:
        self._path = path
        self._max_body = max_body
        self._metrics_port = metrics_port
        self._admits = admits

    async def take(self, scope: dict[str, Any], receive: Receive, send: Send, inner: ASGIApp) -> Taken | None:
        """The request, read, when it is the layer's; otherwise None, once `inner` (the app) has
        answered it, with the body replayed if it was read: another path, the metrics port, another
        content type, a length over the cap (declared or sent), a client gone before its body ended."""
        if not is_post_to(scope, self._path):
            await inner(scope, receive, send)
            return None
        started = time.perf_counter()
        headers = headers_of(scope)
        if (
            on_port(scope, self._metrics_port)
            or headers.get(b"content-type") != JSON
            or not length_within(headers, self._max_body)
            or not self._admits(headers)
        ):
            await inner(scope, receive, send)
            return None
        body, complete, then = await read_body(receive, self._max_body)
        if not complete:
            await inner(scope, replaying(body, False, then, receive), send)
            return None
        return Taken(headers, body, started)


async def pass_on(inner: ASGIApp, scope: dict[str, Any], body: bytes, receive: Receive, send: Send) -> None:
    """A taken request the layer will not answer after all, to `inner` with its whole body replayed."""
    await inner(scope, replaying(body, True, None, receive), send)


def replaying(body: bytes, complete: bool, then: dict[str, Any] | None, receive: Receive) -> Receive:
    """`receive` giving the body read so far again first, then `then` (if any), then what follows."""
    pending = [{"type": "http.request", "body": body, "more_body": not complete}]
    if then is not None:
        pending.append(then)

    async def replay() -> dict[str, Any]:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay


def fixed_headers(path: str) -> list[tuple[bytes, bytes]]:
    """The headers the app's hooks add to every answer on `path` (the security headers)."""
    fixed = [(name.lower().encode(), value.encode()) for name, value in HEADERS.items()]
    if path.startswith(PRIVATE_PREFIXES):
        fixed.append((b"cache-control", b"no-store"))
    return fixed


async def send_json(
    send: Send,
    status: int,
    body: bytes,
    extra: list[tuple[bytes, bytes]],
    fixed: list[tuple[bytes, bytes]],
    request_id: str,
) -> None:
    """A JSON answer as the app writes one: its own headers, `extra`, the fixed ones, the request id."""
    headers = [(b"content-type", JSON), (b"content-length", str(len(body)).encode())]
    headers += extra
    headers += fixed
    headers.append((REQUEST_ID, request_id.encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})
