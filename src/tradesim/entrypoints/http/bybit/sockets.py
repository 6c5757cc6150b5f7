"""`/v5/private` (and `/v5/public/{linear,spot}`) as Bybit serves them, in front of the app (ASGI).

Private: `{"op": "auth", "args": [apiKey, expires, signature]}` with the signature an HMAC of
`"GET/realtime" + expires`, refused when `expires` has passed, the key is unknown or revoked, or
the signature differs; an authenticated socket is closed (4401) when its key is revoked on any api
process (`ws/sessions.SocketSessions`); then `subscribe` to `order`, `execution`, `position`, `wallet`, whose
pushes (`{id, topic, creationTime, data}`) carry Bybit's records of the key's one account, fanned
out by the hub. Acks come some tens of ms after their request: pybit stores a subscription only
after sending it, and an ack that arrives first loses it the socket (a loopback race).
Public: `tickers.{symbol}`, `orderbook.1.{symbol}`, `publicTrade.{symbol}` and `kline.1.{symbol}`,
from the api's price feed.
`{"op": "ping"}` answers Bybit's pong on both; WebSocket ping frames are the server's to answer.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
import structlog

from tradesim.application.api_keys import ApiKeyService
from tradesim.domain.errors import TradesimError
from tradesim.entrypoints.http.bybit import signing
from tradesim.entrypoints.http.ws.account_feed import AccountFeed
from tradesim.entrypoints.http.ws.direct import direct_writer
from tradesim.entrypoints.http.ws.hub import UNAUTHENTICATED, Connection, Hub, encode
from tradesim.entrypoints.http.ws.lifetime import until_closed
from tradesim.entrypoints.http.ws.sessions import SocketSessions
from tradesim.ports.clock import Clock

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ASGIApp = Callable[[dict[str, Any], Receive, Send], Awaitable[None]]

log = structlog.get_logger("tradesim.api")

PRIVATE_PATH = "/v5/private"
PUBLIC_PATHS = {"/v5/public/linear": "linear", "/v5/public/spot": "spot"}
PRIVATE_TOPICS = ("order", "execution", "position", "wallet")
#: How long an ack waits after its request (pybit's race, above).
ACK_DELAY_S = 0.05
AUTH_TIMEOUT_S = 30.0


class Op(msgspec.Struct, forbid_unknown_fields=False):
    """A client's message; ccxt.pro numbers its `req_id`, pybit sends a uuid: echoed as sent."""

    op: str
    args: list[Any] = msgspec.field(default_factory=list)
    req_id: str | int | None = None


_decoder = msgspec.json.Decoder(Op)


def parse(message: str | bytes) -> Op | str:
    try:
        return _decoder.decode(message)
    except msgspec.DecodeError as error:
        return f"error:request not a valid op message ({error})"


def v5_public_topic(category: str, topic: str) -> str:
    """The hub's name of a public topic of one category's socket."""
    return f"v5.{category}.{topic}"


def _answer(op: str, conn_id: str, *, success: bool = True, ret_msg: str = "", req_id: Any = None) -> str:
    message: dict[str, Any] = {"success": success, "ret_msg": ret_msg, "op": op, "conn_id": conn_id}
    if req_id is not None:
        message["req_id"] = req_id
    return encode(message)


def _pong(conn_id: str, req_id: Any) -> str:
    message: dict[str, Any] = {"op": "pong", "args": [str(time.time_ns() // 1_000_000)], "conn_id": conn_id}
    if req_id is not None:
        message["req_id"] = req_id
    return encode(message)


class BybitSession:
    def __init__(
        self,
        connection: Connection,
        hub: Hub,
        feed: AccountFeed,
        api_keys: ApiKeyService,
        sessions: SocketSessions,
        clock: Clock,
        category: str | None,
        symbols: tuple[str, ...],
    ) -> None:
        self.connection = connection
        self._hub = hub
        self._feed = feed
        self._api_keys = api_keys
        self._sessions = sessions
        self._clock = clock
        #: None on the private socket; the market of a public one.
        self._category = category
        self._symbols = symbols

    @property
    def authenticated(self) -> bool:
        return self.connection.user_id is not None

    async def handle(self, message: str | bytes) -> None:
        conn = self.connection
        op = parse(message)
        if isinstance(op, str):
            conn.offer(_answer("", conn.conn_id, success=False, ret_msg=op))
            return
        if op.op == "ping":
            conn.offer(_pong(conn.conn_id, op.req_id))
        elif op.op == "auth" and self._category is None:
            await self._authenticate(op)
        elif op.op in ("subscribe", "unsubscribe"):
            await self._subscription(op)
        else:
            conn.offer(_answer(op.op, conn.conn_id, success=False, ret_msg=f"unknown op {op.op}", req_id=op.req_id))

    async def _authenticate(self, op: Op) -> None:
        conn = self.connection
        if self.authenticated:
            conn.offer(_answer("auth", conn.conn_id, success=False, ret_msg="Repeat auth", req_id=op.req_id))
            return
        try:
            api_key, expires, signature = (str(a) for a in op.args[:3])
            if len(op.args) != 3 or not expires.isdigit():
                raise ValueError
        except ValueError:
            return self._refuse(op, "Params Error: send [apiKey, expires, signature]")
        if int(expires) <= self._clock.now_ms():
            return self._refuse(op, "Params Error: the request expired")
        self._sessions.watch_key(conn, api_key)  # before the read: see `watch_key`
        try:
            credentials = await self._api_keys.credentials(api_key)
        except TradesimError:
            self._sessions.forget(conn)
            return self._refuse(op, "Invalid apikey")
        if not signing.websocket_signature_matches(credentials.secret, expires, signature):
            self._sessions.forget(conn)
            return self._refuse(op, "Invalid sign")
        key = credentials.key
        await self._feed.attach(conn, key.user_id, [key.account_id])
        conn.offer(_answer("auth", conn.conn_id, req_id=op.req_id))
        return None

    def _refuse(self, op: Op, reason: str) -> None:
        conn = self.connection
        conn.offer(_answer("auth", conn.conn_id, success=False, ret_msg=reason, req_id=op.req_id))
        conn.close(UNAUTHENTICATED, "authentication failed")

    def _hub_topic(self, topic: object) -> str | None:
        if not isinstance(topic, str):
            return None
        if self._category is None:
            return f"v5.{topic}" if topic in PRIVATE_TOPICS else None
        kind, _, symbol = topic.rpartition(".")
        if kind in ("tickers", "orderbook.1", "publicTrade", "kline.1") and symbol in self._symbols:
            return v5_public_topic(self._category, topic)
        return None

    async def _subscription(self, op: Op) -> None:
        conn = self.connection
        if self._category is None and not self.authenticated:
            conn.offer(_answer(op.op, conn.conn_id, success=False, ret_msg="Request not authorized", req_id=op.req_id))
            return
        topics = [(t, self._hub_topic(t)) for t in op.args]
        bad = [str(t) for t, hub_topic in topics if hub_topic is None]
        await asyncio.sleep(ACK_DELAY_S)
        message = f"Invalid topic: {', '.join(bad)}" if bad else ""
        conn.offer(_answer(op.op, conn.conn_id, success=not bad, ret_msg=message, req_id=op.req_id))
        for _, hub_topic in topics:
            if hub_topic is None:
                continue
            if op.op == "subscribe":
                self._hub.subscribe(conn, hub_topic)
            else:
                self._hub.unsubscribe(conn, hub_topic)


class BybitSocketEndpoint:
    """The `/v5` sockets as plain ASGI in front of the app; every other scope goes on to it."""

    def __init__(
        self,
        inner: ASGIApp,
        *,
        hub: Hub,
        feed: AccountFeed,
        api_keys: ApiKeyService,
        sessions: SocketSessions,
        clock: Clock,
        symbols: tuple[str, ...],
    ) -> None:
        self._inner = inner
        self._hub = hub
        self._feed = feed
        self._api_keys = api_keys
        self._sessions = sessions
        self._clock = clock
        self._symbols = symbols

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "websocket" and (path == PRIVATE_PATH or path in PUBLIC_PATHS):
            await self._serve(scope, receive, send, PUBLIC_PATHS.get(path))
        else:
            await self._inner(scope, receive, send)

    async def _serve(self, scope: dict[str, Any], receive: Receive, send: Send, category: str | None) -> None:
        await send({"type": "websocket.accept"})
        connection = self._hub.connect()
        # Pushes as ready-made frames, as on `/ws`: a bot's order -> execution push is the hot path.
        connection.write_directly(direct_writer(send))
        session = BybitSession(
            connection, self._hub, self._feed, self._api_keys, self._sessions, self._clock, category, self._symbols
        )
        writer = asyncio.ensure_future(connection.write(send))
        reader = asyncio.ensure_future(_read(receive, session))
        try:
            await until_closed(connection, send, reader, writer)
        finally:
            for task in (reader, writer):
                task.cancel()
            self._sessions.forget(connection)
            await self._feed.detach(connection)
            log.info("websocket_closed", conn_id=connection.conn_id, path=scope.get("path"), user_id=connection.user_id)


async def _read(receive: Receive, session: BybitSession) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + AUTH_TIMEOUT_S
    private = session._category is None
    while session.connection.close_code is None:
        if private and not session.authenticated:
            try:
                event = await asyncio.wait_for(receive(), max(deadline - loop.time(), 0))
            except TimeoutError:
                session.connection.close(UNAUTHENTICATED, f"not authenticated within {AUTH_TIMEOUT_S:g} s")
                return
        else:
            event = await receive()
        if event["type"] == "websocket.disconnect":
            return
        if event["type"] != "websocket.receive":
            continue
        text = event.get("text")
        await session.handle(text if text is not None else event.get("bytes") or b"")
