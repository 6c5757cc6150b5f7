"""Pushes written as ready-made WebSocket frames straight to hypercorn's socket.

A push to thousands of subscribers is the same frame each time. Through ASGI, hypercorn builds it
again for every socket (the `websocket.send` event, wsproto's framing, two protocol layers and a
lock), which costs more than the socket write itself. A server's frames are not masked, so the
bytes of an uncompressed text frame are the same for every client: `text_frame` builds them once
per message, and a connection's `DirectWriter` hands them to its transport.

The writer is found by walking hypercorn's objects from the ASGI `send` callable (the versions in
uv.lock; `tests/integration/test_ws_direct.py` proves it is found there). Anything unexpected, a
connection that negotiated compression (whose frames differ per socket), or a transport that is
busy, closing or holding unsent data answers False, and the caller sends through ASGI as before,
so that frames never overtake each other.
"""

from __future__ import annotations

import asyncio
from typing import Any

#: Unsent bytes beyond which frames go through ASGI (and its flow control) instead.
HIGH_WATER = 64 * 1024
#: What `DirectWriter` asks of a transport.
_TRANSPORT = ("write", "get_write_buffer_size", "is_closing")


def text_frame(text: str) -> bytes:
    """An unmasked, uncompressed, final text frame (RFC 6455 section 5.2) carrying `text`."""
    payload = text.encode()
    size = len(payload)
    if size < 126:
        header = bytes((0x81, size))
    elif size < 1 << 16:
        header = bytes((0x81, 126)) + size.to_bytes(2, "big")
    else:
        header = bytes((0x81, 127)) + size.to_bytes(8, "big")
    return header + payload


class DirectWriter:
    """Writes whole frames to one connection's transport while it can take them at once."""

    __slots__ = ("_lock", "_transport")

    def __init__(self, transport: asyncio.WriteTransport, lock: asyncio.Lock) -> None:
        self._transport = transport
        self._lock = lock

    def write(self, frame: bytes) -> bool:
        """Write `frame` now; False when it must go through ASGI (a send in progress, unsent data, closing)."""
        transport = self._transport
        if self._lock.locked() or transport.get_write_buffer_size() > HIGH_WATER or transport.is_closing():
            return False
        transport.write(frame)
        return True


def direct_writer(send: Any) -> DirectWriter | None:
    """The writer under an accepted connection's ASGI `send`, or None when it is not hypercorn's
    HTTP/1.1 WebSocket stream as expected, or frames there are compressed."""
    try:
        stream = send.__self__  # hypercorn.protocol.ws_stream.WSStream
        if stream.connection._proto.extensions:  # permessage-deflate: every socket's frames differ
            return None
        server = stream.send.__self__.send.__self__  # H11Protocol -> hypercorn.asyncio.tcp_server.TCPServer
        transport, lock = server.writer.transport, server.send_lock
    except AttributeError:
        return None
    # By what it does, not its class: uvloop's transports (what `tradesim api` runs on) do not
    # derive from asyncio's, and an isinstance check turned every socket there back to ASGI.
    if not all(callable(getattr(transport, name, None)) for name in _TRANSPORT) or not isinstance(lock, asyncio.Lock):
        return None
    return DirectWriter(transport, lock)
