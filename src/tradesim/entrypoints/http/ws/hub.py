"""Fan-out of frames to WebSocket connections.

A message is encoded once, by whoever publishes it, and the same text frame is queued to every
subscriber; a push is also framed once (`direct.text_frame`) and written as those bytes where
the connection allows it. Queuing never waits: each connection has a bounded queue drained
by its own writer, so a slow client only fills its own queue. When it overflows, the connection
is closed with `SLOW_CONSUMER` and nobody else notices.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import msgspec

from tradesim.entrypoints.http.observability import ApiMetrics
from tradesim.entrypoints.http.ws.direct import DirectWriter, text_frame

#: Close codes (4000-4999 are the application's own, RFC 6455 section 7.4.2).
UNAUTHENTICATED = 4401
SLOW_CONSUMER = 4429
GOING_AWAY = 1001

#: Frames a connection may have waiting before it counts as too slow: ~10 s of one ticker at 10/s
#: and a burst of private events; beyond that the client sees stale prices anyway.
DEFAULT_MAX_PENDING = 256

#: The private topics of `/v5/private` are kept apart as `v5.{topic}`: their records are Bybit's.
V5_PRIVATE_TOPICS = frozenset({"v5.order", "v5.execution", "v5.position", "v5.wallet"})
PRIVATE_TOPICS = frozenset({"order", "execution", "position", "wallet", "commandRejected"}) | V5_PRIVATE_TOPICS

_encoder = msgspec.json.Encoder()


def encode(message: object) -> str:
    """JSON text of a push (attrs wire formats and plain containers)."""
    return _encoder.encode(message).decode()


Send = Callable[[dict[str, Any]], Awaitable[None]]


class Connection:
    """One socket's side of the hub: who it is, what it follows, and what waits to be sent.

    Sending is eager: when nothing is queued, `offer` runs the socket's ASGI `send` on the spot, and
    it normally completes without suspending (the frame lands in the kernel's socket buffer). Only a
    send that has to wait (the client is not reading, so the buffer is full) moves to a task, and
    later frames queue behind it. This is what `websockets.broadcast()` does, and it spares a task
    wake-up per frame per subscriber, which at a thousand subscribers is most of the cost.
    """

    __slots__ = (
        "_busy",
        "_direct",
        "_finisher",
        "_max",
        "_pending",
        "_send",
        "_wakeup",
        "_writing",
        "account_ids",
        "close_code",
        "close_reason",
        "conn_id",
        "topics",
        "user_id",
    )

    def __init__(self, conn_id: str, max_pending: int = DEFAULT_MAX_PENDING) -> None:
        self.conn_id = conn_id
        self.user_id: str | None = None
        self.account_ids: set[str] = set()
        self.topics: set[str] = set()
        self.close_code: int | None = None
        self.close_reason = ""
        self._max = max_pending
        self._pending: deque[str] = deque()
        self._wakeup = asyncio.Event()
        self._send: Send | None = None
        self._busy = False
        self._writing = False
        self._finisher: asyncio.Future[None] | None = None
        self._direct: DirectWriter | None = None

    def write_directly(self, writer: DirectWriter | None) -> None:
        """Frames offered ready-made go to `writer` when it takes them (see `direct`)."""
        self._direct = writer

    @property
    def writes_directly(self) -> bool:
        return self._direct is not None

    def offer(self, frame: str, framed: bytes | None = None) -> bool:
        """Send or queue `frame` without waiting; False (and the connection marked for closing) when full.
        `framed` is the same message as a ready-made WebSocket frame (`direct.text_frame`)."""
        if self.close_code is not None:
            return False
        if self._send is not None and not (self._busy or self._writing or self._pending):
            direct = self._direct
            if framed is not None and direct is not None and direct.write(framed):
                return True
            return self._send_now(frame)
        if len(self._pending) >= self._max:
            self.close(SLOW_CONSUMER, f"send queue overflow: more than {self._max} messages waiting", discard=True)
            return False
        self._pending.append(frame)
        self._wakeup.set()
        return True

    def close(self, code: int, reason: str, *, discard: bool = False) -> None:
        """Mark for closing: the writer sends what is queued (nothing, with `discard`), then stops."""
        if self.close_code is None:
            self.close_code = code
            self.close_reason = reason
            if discard:
                self._pending.clear()
            self._wakeup.set()

    @property
    def pending(self) -> int:
        return len(self._pending)

    async def write(self, send: Send) -> None:
        """Deliver through `send` until the connection is closed (run it as the connection's writer task)."""
        self._send = send
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            if self._busy:
                if self.close_code is not None and self._finisher is not None:
                    # Closing while a send is stuck (the client stopped reading): give up on it.
                    self._finisher.cancel()
                    return
                continue  # an eager send is still finishing; it wakes us when done
            self._writing = True
            try:
                while self._pending:
                    await send({"type": "websocket.send", "text": self._pending.popleft()})
            finally:
                self._writing = False
            if self.close_code is not None:
                return

    def _send_now(self, frame: str) -> bool:
        assert self._send is not None
        step = self._send({"type": "websocket.send", "text": frame})
        try:
            waiting_on = step.send(None)  # type: ignore[attr-defined]
        except StopIteration:
            return True
        except Exception as error:
            self.close(1011, f"send failed: {type(error).__name__}", discard=True)
            return False
        # The socket could not take it now: finish this send in a task; later frames queue behind it.
        self._busy = True
        self._finisher = asyncio.ensure_future(self._finish(step, waiting_on))
        return True

    async def _finish(self, step: Any, waiting_on: Any) -> None:
        try:
            while True:
                if waiting_on is None:
                    await asyncio.sleep(0)
                else:
                    await asyncio.wait([waiting_on])
                try:
                    waiting_on = step.send(None)
                except StopIteration:
                    return
        except BaseException:
            step.close()
            raise
        finally:
            self._busy = False
            self._wakeup.set()


class Hub:
    def __init__(self, metrics: ApiMetrics, max_pending: int = DEFAULT_MAX_PENDING) -> None:
        self._metrics = metrics
        self.max_pending = max_pending
        self._ids = itertools.count(1)
        self._connections: set[Connection] = set()
        self._by_topic: dict[str, set[Connection]] = {}
        self._by_account: dict[str, set[Connection]] = {}
        #: The latest frame of each public topic, sent to a new subscriber at once (a snapshot).
        self._snapshots: dict[str, str] = {}

    def __len__(self) -> int:
        """Open connections."""
        return len(self._connections)

    def connect(self) -> Connection:
        connection = Connection(f"c{next(self._ids)}", self.max_pending)
        self._connections.add(connection)
        self._metrics.open_websockets.inc()
        return connection

    def disconnect(self, connection: Connection) -> None:
        if connection not in self._connections:
            return
        self._connections.discard(connection)
        self._metrics.open_websockets.dec()
        for topic in connection.topics:
            self._drop(self._by_topic, topic, connection)
        for account_id in connection.account_ids:
            self._drop(self._by_account, account_id, connection)
        connection.topics.clear()

    def authenticated(self, connection: Connection, user_id: str, account_ids: Iterable[str]) -> None:
        connection.user_id = user_id
        for account_id in account_ids:
            self.add_account(connection, account_id)

    def add_account(self, connection: Connection, account_id: str) -> None:
        connection.account_ids.add(account_id)
        self._by_account.setdefault(account_id, set()).add(connection)

    def connections_of(self, user_id: str) -> list[Connection]:
        return [c for c in self._connections if c.user_id == user_id]

    def watched_accounts(self) -> set[str]:
        return set(self._by_account)

    def subscribe(self, connection: Connection, topic: str) -> None:
        connection.topics.add(topic)
        if topic not in PRIVATE_TOPICS:
            self._by_topic.setdefault(topic, set()).add(connection)
            snapshot = self._snapshots.get(topic)
            if snapshot is not None and self._queue(connection, snapshot):
                self._metrics.ws_frames.inc()

    def audience(self, topic: str) -> int:
        """How many connections follow a public topic."""
        return len(self._by_topic.get(topic, ()))

    def unsubscribe(self, connection: Connection, topic: str) -> None:
        connection.topics.discard(topic)
        self._drop(self._by_topic, topic, connection)

    def publish(self, topic: str, frame: str) -> int:
        """Send or queue an encoded public frame to every subscriber of `topic`; returns how many got it."""
        delivered = 0
        audience = tuple(self._by_topic.get(topic, ()))
        framed = text_frame(frame) if audience else None
        for connection in audience:
            delivered += self._queue(connection, frame, framed)
        if delivered:
            self._metrics.ws_frames.inc(delivered)
        return delivered

    async def broadcast(self, topic: str, frame: str, *, snapshot: bool = False, chunk: int = 500) -> int:
        """`publish` for large audiences: yields to the loop every `chunk` sends, so requests and other
        sockets are served while a frame goes out to thousands."""
        if snapshot:
            self._snapshots[topic] = frame
        delivered = 0
        audience = tuple(self._by_topic.get(topic, ()))
        framed = text_frame(frame) if audience else None
        for start in range(0, len(audience), chunk):
            if start:
                await asyncio.sleep(0)
            for connection in audience[start : start + chunk]:
                # `_queue` inlined: this loop runs once per subscriber per message.
                if connection.offer(frame, framed):
                    delivered += 1
                elif connection.close_code == SLOW_CONSUMER:
                    self._metrics.slow_consumers.inc()
                    self.disconnect(connection)
        if delivered:
            self._metrics.ws_frames.inc(delivered)
        return delivered

    def wants(self, account_id: str, topic: str) -> bool:
        """Whether any connection of `account_id`'s owner is subscribed to `topic` (so that a
        frame nobody would receive is never presented or encoded)."""
        return any(topic in connection.topics for connection in self._by_account.get(account_id, ()))

    def publish_private(self, account_id: str, topic: str, frame: str) -> int:
        """Queue an encoded frame of one account to its owner's connections subscribed to `topic`."""
        delivered = 0
        framed = None
        for connection in tuple(self._by_account.get(account_id, ())):
            if topic in connection.topics:
                if framed is None and connection.writes_directly:
                    # Framed once, as a public push is: hypercorn's ASGI path costs more than the write.
                    framed = text_frame(frame)
                delivered += self._queue(connection, frame, framed)
        if delivered:
            self._metrics.ws_frames.inc(delivered)
        return delivered

    def close_all(self, code: int, reason: str) -> None:
        for connection in tuple(self._connections):
            connection.close(code, reason)

    def _queue(self, connection: Connection, frame: str, framed: bytes | None = None) -> int:
        if connection.offer(frame, framed):
            return 1
        if connection.close_code == SLOW_CONSUMER:
            self._metrics.slow_consumers.inc()
            self.disconnect(connection)
        return 0

    @staticmethod
    def _drop(index: dict[str, set[Connection]], key: str, connection: Connection) -> None:
        members = index.get(key)
        if members is not None:
            members.discard(connection)
            if not members:
                del index[key]
