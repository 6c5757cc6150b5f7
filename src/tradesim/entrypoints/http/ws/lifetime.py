"""How a socket's reader and writer tasks run to the end, the same for `/ws` and Bybit's `/v5` sockets."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

import structlog

from tradesim.entrypoints.http.ws.hub import Connection

log = structlog.get_logger("tradesim.ws")

Send = Callable[[dict[str, Any]], Awaitable[None]]


async def until_closed(
    connection: Connection, send: Send, reader: asyncio.Future[None], writer: asyncio.Future[None]
) -> None:
    """Wait until the reader or the writer ends; either one failing closes the socket with 1011.

    A socket closed by us (an auth refusal, a quota, a slow client) has its queued frames flushed
    first, so the client reads why, then gets the close frame. Neither wait lasts over a second: a
    client that stopped reading may never take them. The caller cancels both tasks afterwards.
    """
    await asyncio.wait({reader, writer}, return_when=asyncio.FIRST_COMPLETED)
    for task in (reader, writer):
        if task.done() and not task.cancelled() and task.exception() is not None:
            log.error("websocket_failed", error=repr(task.exception()), conn_id=connection.conn_id)
            connection.close(1011, "internal error")
    if connection.close_code is not None:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(writer, 1.0)
        close = {"type": "websocket.close", "code": connection.close_code, "reason": connection.close_reason}
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(send(close), 1.0)
