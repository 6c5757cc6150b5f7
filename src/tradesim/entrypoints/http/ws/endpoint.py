"""GET /ws: authenticate, subscribe, receive pushes.

Protocol (Bybit v5 style): authenticate with `?token=<accessToken>` or a first
`{"op": "auth", "args": [token]}` within 10 s; then `{"op": "subscribe", "args": ["tickers.BTCUSDT",
"order", "execution", "position", "wallet", "commandRejected", "replay.{replayId}",
"strategy-run.{runId}"]}` and `unsubscribe`; `{"op": "ping"}` answers a pong. `commandRejected`
(ours, not Bybit's) pushes the commands answered 202 that the engine then refused.
`replay.{replayId}` and `strategy-run.{runId}` are the owner's only: anyone else is refused as for
an unknown topic.
Close codes: 4401 not authenticated (bad token or none within 10 s; later, the token expired or its
login was revoked: logout, or reuse of a rotated refresh token), 4429 too slow (its send queue
overflowed), 1001 the server is shutting down.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any
from urllib.parse import parse_qs

import structlog

from tradesim.application.accounts import AccountService
from tradesim.application.auth import AuthService
from tradesim.entrypoints.http.tickers import TickerCache
from tradesim.entrypoints.http.ws.account_feed import AccountFeed
from tradesim.entrypoints.http.ws.direct import direct_writer
from tradesim.entrypoints.http.ws.hub import UNAUTHENTICATED, Connection, Hub
from tradesim.entrypoints.http.ws.lifetime import until_closed
from tradesim.entrypoints.http.ws.owned_feed import OwnedTopicFeed
from tradesim.entrypoints.http.ws.protocol import MAX_TOPICS, Op, invalid_topics, parse, reply
from tradesim.entrypoints.http.ws.replay_feed import ReplayFeed
from tradesim.entrypoints.http.ws.sessions import SocketSessions
from tradesim.entrypoints.http.ws.socket_quota import TOO_MANY, SocketQuota
from tradesim.entrypoints.http.ws.strategy_run_feed import StrategyRunFeed
from tradesim.ports.security import Unauthenticated

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ASGIApp = Callable[[dict[str, Any], Receive, Send], Awaitable[None]]

log = structlog.get_logger("tradesim.api")

AUTH_TIMEOUT_S = 10.0


class Session:
    """One socket's conversation: its connection in the hub and what the user may do."""

    def __init__(
        self,
        connection: Connection,
        hub: Hub,
        feed: AccountFeed,
        auth: AuthService,
        accounts: AccountService,
        tickers: TickerCache,
        owned: Sequence[OwnedTopicFeed[Any]],
        sessions: SocketSessions,
        quota: SocketQuota,
    ) -> None:
        self.connection = connection
        self._sessions = sessions
        self._quota = quota
        self._hub = hub
        self._feed = feed
        self._auth = auth
        self._accounts = accounts
        self._tickers = tickers
        self._owned = owned

    def _owned_topic(self, topic: str) -> tuple[OwnedTopicFeed[Any], str] | None:
        """The feed of an owner's topic (`replay.{id}`, `strategy-run.{id}`) and the id in it."""
        for feed in self._owned:
            item_id = feed.id_of(topic)
            if item_id is not None:
                return feed, item_id
        return None

    @property
    def authenticated(self) -> bool:
        return self.connection.user_id is not None

    async def authenticate(self, token: object, req_id: str | None = None) -> None:
        conn = self.connection
        if self.authenticated:
            conn.offer(reply("auth", conn.conn_id, ret_msg="already authenticated", req_id=req_id))
            return
        try:
            if not isinstance(token, str):
                raise Unauthenticated('send the access token: {"op": "auth", "args": ["<accessToken>"]}')
            claims = self._auth.claims(token)
        except Unauthenticated as error:
            conn.offer(reply("auth", conn.conn_id, success=False, ret_msg=error.message, req_id=req_id))
            conn.close(UNAUTHENTICATED, "authentication failed")
            return
        user_id = claims.subject
        refused = await self._quota.admit_user(conn, user_id)
        if refused is not None:
            conn.offer(reply("auth", conn.conn_id, success=False, ret_msg=refused, req_id=req_id))
            conn.close(TOO_MANY, refused)
            return
        accounts = await self._accounts.list(user_id)
        await self._feed.attach(conn, user_id, [a.account_id for a in accounts])
        self._sessions.watch(conn, claims)
        conn.offer(reply("auth", conn.conn_id, req_id=req_id))

    async def handle(self, message: str | bytes) -> None:
        conn = self.connection
        op = parse(message)
        if isinstance(op, str):
            conn.offer(reply("", conn.conn_id, success=False, ret_msg=op))
            return
        if op.op == "ping":
            conn.offer(reply("ping", conn.conn_id, ret_msg="pong", req_id=op.req_id))
        elif op.op == "pong":
            return
        elif op.op == "auth":
            await self.authenticate(op.args[0] if op.args else None, op.req_id)
        elif op.op in ("subscribe", "unsubscribe"):
            await self._subscription(op)
        else:
            conn.offer(reply(op.op, conn.conn_id, success=False, ret_msg=f"unknown op {op.op!r}", req_id=op.req_id))

    async def _subscription(self, op: Op) -> None:
        conn = self.connection
        if not self.authenticated:
            conn.offer(reply(op.op, conn.conn_id, success=False, ret_msg="authenticate first", req_id=op.req_id))
            return
        bad = invalid_topics(op.args, self._tickers.symbols)
        good = [t for t in op.args if isinstance(t, str) and t not in bad]
        if op.op == "subscribe":
            assert conn.user_id is not None
            for topic in [t for t in good if t not in conn.topics]:
                owned = self._owned_topic(topic)
                if owned is not None and not await owned[0].allowed(conn.user_id, owned[1]):
                    good.remove(topic)
                    bad.append(topic)
        if op.op == "subscribe" and len(conn.topics | set(good)) > MAX_TOPICS:
            message = f"at most {MAX_TOPICS} topics per connection"
            conn.offer(reply(op.op, conn.conn_id, success=False, ret_msg=message, req_id=op.req_id))
            return
        message = f"unknown topic(s): {', '.join(bad)}" if bad else ""
        # The answer first, then the snapshots the subscriptions queue (as Bybit orders them).
        conn.offer(reply(op.op, conn.conn_id, success=not bad, ret_msg=message, req_id=op.req_id))
        for topic in good:
            owned = self._owned_topic(topic)
            if op.op == "subscribe":
                if owned is not None:
                    owned[0].subscribe(conn, owned[1])
                else:
                    self._hub.subscribe(conn, topic)
            elif owned is not None:
                owned[0].unsubscribe(conn, owned[1])
            else:
                self._hub.unsubscribe(conn, topic)


class WebSocketEndpoint:
    """`/ws` as a plain ASGI endpoint in front of the Quart app; every other scope goes to Quart.

    Pushes are the hot path (one frame per subscriber per message). Quart's websocket wrapper costs
    an extra trip through the event loop and an accept() per send, which at a thousand subscribers
    is most of a message's delivery time; speaking ASGI directly leaves only hypercorn's framing.
    """

    path = "/ws"

    def __init__(
        self,
        inner: ASGIApp,
        *,
        hub: Hub,
        feed: AccountFeed,
        auth: AuthService,
        accounts: AccountService,
        tickers: TickerCache,
        replays: ReplayFeed,
        sessions: SocketSessions,
        quota: SocketQuota,
        runs: StrategyRunFeed | None = None,
    ) -> None:
        self._inner = inner
        self._sessions = sessions
        self._quota = quota
        self._hub = hub
        self._feed = feed
        self._auth = auth
        self._accounts = accounts
        self._tickers = tickers
        self._owned: list[OwnedTopicFeed[Any]] = [replays] if runs is None else [replays, runs]

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and scope["path"] == self.path:
            await self._serve(scope, receive, send)
        else:
            await self._inner(scope, receive, send)

    async def _serve(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        # Accept at once; the reader skips the `websocket.connect` event (Quart's test client sends none).
        await send({"type": "websocket.accept"})
        connection = self._hub.connect()
        connection.write_directly(direct_writer(send))
        session = Session(
            connection,
            self._hub,
            self._feed,
            self._auth,
            self._accounts,
            self._tickers,
            self._owned,
            self._sessions,
            self._quota,
        )
        client = scope.get("client")
        # A socket over its address's quota is closed at once (the reader sees the close and stops).
        refused = await self._quota.admit_address(connection, client[0] if client else "unknown")
        if refused is not None:
            connection.close(TOO_MANY, refused)
        token = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token", [None])[0]
        writer = asyncio.ensure_future(connection.write(send))
        reader = asyncio.ensure_future(_read(receive, session, token))
        try:
            await until_closed(connection, send, reader, writer)
        finally:
            for task in (reader, writer):
                task.cancel()
            await self._feed.detach(connection)
            self._sessions.forget(connection)
            await self._quota.release(connection)
            for feed in self._owned:
                feed.release_unwatched()
            log.info(
                "websocket_closed",
                conn_id=connection.conn_id,
                user_id=connection.user_id,
                code=connection.close_code or 1000,
                reason=connection.close_reason,
            )


async def _read(receive: Receive, session: Session, token: str | None) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + AUTH_TIMEOUT_S
    if token is not None:
        await session.authenticate(token)
    while session.connection.close_code is None:
        if session.authenticated:
            event = await receive()
        else:
            try:
                event = await asyncio.wait_for(receive(), max(deadline - loop.time(), 0))
            except TimeoutError:
                session.connection.close(UNAUTHENTICATED, f"not authenticated within {AUTH_TIMEOUT_S:g} s")
                return
        if event["type"] == "websocket.disconnect":
            return
        if event["type"] != "websocket.receive":
            continue
        message = event.get("text")
        await session.handle(message if message is not None else event.get("bytes") or b"")
