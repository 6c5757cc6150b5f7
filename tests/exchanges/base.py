"""What both fake venues share: a real WebSocket server, sessions, and the misbehaviours."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import uuid
from collections.abc import Iterable, Sequence
from http import HTTPStatus
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from tests.waiting import until


def text_frame(payload: bytes) -> bytes:
    """One RFC 6455 server frame: FIN, opcode text, no mask."""
    size = len(payload)
    if size < 126:
        header = bytes((0x81, size))
    elif size < 1 << 16:
        header = bytes((0x81, 126)) + size.to_bytes(2, "big")
    else:
        header = bytes((0x81, 127)) + size.to_bytes(8, "big")
    return header + payload


def dumps(message: Any) -> str:
    return message if isinstance(message, str) else json.dumps(message, separators=(",", ":"))


class Session:
    """One client connection as the venue sees it."""

    def __init__(self, ws: ServerConnection, path: str) -> None:
        self.ws = ws
        self.path = path
        self.conn_id = str(uuid.uuid4())
        self.received: list[str] = []
        self.subscribed: set[Any] = set()
        self.pings = 0
        self.stalled = False
        self.closed_by_server = ""
        loop = asyncio.get_running_loop()
        self.opened_at = loop.time()
        self.last_ping_at = loop.time()

    async def send(self, message: Any) -> None:
        if self.stalled:
            return
        with contextlib.suppress(ConnectionClosed):
            await self.ws.send(dumps(message))

    async def close(self, reason: str, code: int = 1000) -> None:
        self.closed_by_server = reason
        with contextlib.suppress(ConnectionClosed):
            await self.ws.close(code, reason)


class FakeExchange:
    """Start with `async with`; `url` is where clients connect."""

    paths: tuple[str, ...] = ()

    def __init__(self, *, idle_timeout: float | None = None, max_age: float | None = None) -> None:
        #: Close a connection that sent no ping for this long (Bybit ~10 min, Bitget 2 min).
        self.idle_timeout = idle_timeout
        #: Close every connection after this long (Bitget: once a day).
        self.max_age = max_age
        self.sessions: list[Session] = []
        self._server: Server | None = None
        self._clock = itertools.count(1_700_000_000_000, 100)

    async def __aenter__(self) -> FakeExchange:
        self._server = await serve(
            self._handle,
            "127.0.0.1",
            0,
            process_request=self._check_path,
            compression=None,
            ping_interval=None,
            max_queue=None,
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(next(iter(self._server.sockets)).getsockname()[1])

    @property
    def base_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def now(self) -> int:
        """The venue's clock: strictly increasing milliseconds."""
        return next(self._clock)

    @property
    def open_sessions(self) -> list[Session]:
        return [s for s in self.sessions if s.ws.state.name == "OPEN"]

    def _check_path(self, connection: ServerConnection, request: Request) -> Response | None:
        if request.path not in self.paths:
            return connection.respond(HTTPStatus.NOT_FOUND, f"no WebSocket at {request.path}\n")
        return None

    async def _handle(self, ws: ServerConnection) -> None:
        session = Session(ws, ws.request.path if ws.request else "")
        self.sessions.append(session)
        guard = asyncio.create_task(self._enforce_limits(session))
        try:
            async for frame in ws:
                text = frame if isinstance(frame, str) else frame.decode()
                session.received.append(text)
                if session.stalled:
                    continue  # a stalled venue reads and never answers
                await self.on_frame(session, text)
        except ConnectionClosed:
            pass
        finally:
            guard.cancel()

    async def _enforce_limits(self, session: Session) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(0.02)
            now = loop.time()
            if self.max_age is not None and now - session.opened_at >= self.max_age:
                await session.close("connection age limit")  # Bitget's daily disconnect
                return
            if self.idle_timeout is not None and now - session.last_ping_at >= self.idle_timeout:
                await session.close("no ping")
                return

    async def on_frame(self, session: Session, text: str) -> None:
        raise NotImplementedError

    async def publish(self, key: Any, message: Any, sessions: Iterable[Session] | None = None) -> int:
        """Send to every open session subscribed to `key`; returns how many got it."""
        count = 0
        for session in list(sessions if sessions is not None else self.open_sessions):
            if key in session.subscribed and not session.stalled:
                await session.send(message)
                count += 1
        return count

    async def send_raw(self, frame: str | bytes) -> None:
        """Any frame, as is, to every open session (garbage, out-of-order data...)."""
        for session in self.open_sessions:
            with contextlib.suppress(ConnectionClosed):
                await session.ws.send(frame)

    async def blast(self, key: Any, payloads: Sequence[bytes], *, chunk: int = 256, high_water: int = 1 << 22) -> int:
        """Pre-encoded text messages to every session subscribed to `key`, as fast as TCP takes them.

        The frames are built here and written straight to the socket, bypassing the per-message
        cost of the server library, so that a benchmark measures the client and not this server.
        They are ordinary unmasked, unfragmented text frames as a venue sends them.
        """
        frames = [text_frame(p) for p in payloads]
        sessions = [s for s in self.open_sessions if key in s.subscribed and not s.stalled]
        for session in sessions:
            transport = session.ws.transport
            for start in range(0, len(frames), chunk):
                transport.write(b"".join(frames[start : start + chunk]))
                if transport.get_write_buffer_size() > high_water:  # let the reader catch up
                    await until(lambda t=transport: t.get_write_buffer_size() <= high_water, within=60, step=0.0005)
        return len(sessions)

    async def disconnect(self, code: int = 1001, reason: str = "going away") -> None:
        for session in self.open_sessions:
            await session.close(reason, code)

    def stall(self) -> None:
        """Every open connection goes silent: nothing is sent, pings go unanswered. New connections are fine."""
        for session in self.open_sessions:
            session.stalled = True

    async def wait_for_sessions(self, count: int, *, subscribed: int = 1) -> None:
        """Until `count` connections were made and the last has at least `subscribed` subscriptions."""
        await until(lambda: len(self.sessions) >= count and len(self.sessions[-1].subscribed) >= subscribed)
