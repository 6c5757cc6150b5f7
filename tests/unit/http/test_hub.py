"""Fan-out: one encoded frame for everyone; a client that cannot keep up is closed, alone."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.waiting import until
from tradesim.entrypoints.http.observability import ApiMetrics
from tradesim.entrypoints.http.ws.hub import SLOW_CONSUMER, Hub


class FastSocket:
    def __init__(self) -> None:
        self.frames: list[str] = []

    async def send(self, message: dict[str, Any]) -> None:
        self.frames.append(message["text"])


class StuckSocket:
    """A client that stopped reading: its first send never completes (the kernel buffer is full)."""

    def __init__(self) -> None:
        self.attempts = 0
        self.unblock = asyncio.Event()

    async def send(self, message: dict[str, Any]) -> None:
        self.attempts += 1
        await self.unblock.wait()


async def test_a_stuck_client_is_closed_without_slowing_the_others() -> None:
    metrics = ApiMetrics()
    hub = Hub(metrics, max_pending=8)
    fast_sockets = [FastSocket() for _ in range(3)]
    stuck = StuckSocket()
    connections = [hub.connect() for _ in range(4)]
    writers = [asyncio.create_task(c.write(s.send)) for c, s in zip(connections, [*fast_sockets, stuck], strict=True)]
    await asyncio.sleep(0)
    for connection in connections:
        hub.subscribe(connection, "tickers.BTCUSDT")
    frames = [f'{{"n":{i}}}' for i in range(20)]
    for frame in frames:
        assert hub.publish("tickers.BTCUSDT", frame) >= 3
        await asyncio.sleep(0)
    for socket in fast_sockets:
        assert socket.frames == frames
    slow = connections[3]
    assert slow.close_code == SLOW_CONSUMER
    assert "send queue overflow" in slow.close_reason
    assert stuck.attempts == 1, "one send in flight, the rest queued, then dropped"
    assert metrics.slow_consumers._value.get() == 1
    assert hub.publish("tickers.BTCUSDT", "{}") == 3, "the slow one is out of the hub"
    await asyncio.sleep(0)
    assert writers[3].done(), "its writer gave up the stuck send, so the socket can be closed"
    for writer in writers:
        writer.cancel()
    await asyncio.gather(*writers, return_exceptions=True)


async def test_a_connection_whose_send_blocks_briefly_catches_up_in_order() -> None:
    hub = Hub(ApiMetrics(), max_pending=100)
    connection = hub.connect()
    stuck = StuckSocket()
    received: list[str] = []

    async def send(message: dict[str, Any]) -> None:
        if not stuck.unblock.is_set():
            await stuck.unblock.wait()
        received.append(message["text"])

    writer = asyncio.create_task(connection.write(send))
    await asyncio.sleep(0)
    hub.subscribe(connection, "t")
    for i in range(5):
        hub.publish("t", str(i))
    stuck.unblock.set()
    await until(lambda: len(received) == 5)
    assert received == ["0", "1", "2", "3", "4"]
    assert connection.close_code is None
    writer.cancel()
