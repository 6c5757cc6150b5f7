"""WebSocket fan-out: the api (Quart on hypercorn) beside a bare `websockets` server using `broadcast()`.

For each client count, each server runs alone in its own process on loopback while client
processes (so the client side does not starve the server's loop) open the connections, subscribe
to `tickers.BTCUSDT` and time every frame. Prices are published at a fixed rate: through the api's
price bus (the in-process adapter; the api's ticker pump, cache and hub do the rest), and straight
into `broadcast()` for the bare server, with frames of the same shape and size.

Printed per run: connections held, delivered frames per second over the measurement window, and
p50/p99 delivery latency (publish time in the frame's `ts` to receipt, millisecond resolution),
then the targets with PASS/FAIL. Compression is off on both sides (hypercorn would negotiate
permessage-deflate when a client offers it, compressing per connection).

    uv run python bench/ws_fanout.py                      # 1,000 and 5,000 clients, 10 prices/s
    uv run python bench/ws_fanout.py --clients 1000 --rate 20 --duration 15
    uv run python bench/ws_fanout.py --clients 5000 --asgi  # and the api pushing through ASGI only
    uv run python bench/ws_fanout.py --smallest           # what the test suite runs: it works, figures mean nothing

Targets (at 5,000 clients, where one process is loaded; at 1,000 both deliver the whole offered
rate): the api delivers at least 0.8x the bare server's frames/s, and its p99 latency is within
1.5x of the bare server's.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import math
import multiprocessing as mp
import os
import resource
import socket
import sys
import time
from decimal import Decimal
from multiprocessing.synchronize import Event as MpEvent
from typing import Any

import msgspec

SYMBOL = "BTCUSDT"
HOST = "127.0.0.1"


def raise_fd_limit() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else 1_048_576
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return target


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def make_ticker(seq: int) -> Any:
    from tradesim.domain.market import Ticker

    price = Decimal(30000) + Decimal(seq % 1000) / 10
    return Ticker(
        symbol=SYMBOL,
        last_price=price,
        bid_price=price - Decimal("0.1"),
        ask_price=price,
        mark_price=price,
        ts=time.time_ns() // 1_000_000,
    )


async def publish_at_rate(rate: float, go: MpEvent, stop: MpEvent, publish: Any) -> None:
    """Call `publish(seq)` `rate` times a second on an absolute schedule, between `go` and `stop`."""
    while not go.is_set():  # noqa: ASYNC110 - a multiprocessing event, set by the parent process
        await asyncio.sleep(0.02)
    interval = 1.0 / rate
    loop = asyncio.get_running_loop()
    start = loop.time()
    seq = 0
    while not stop.is_set():
        await publish(seq)
        seq += 1
        await asyncio.sleep(max(start + seq * interval - loop.time(), 0))


# -- servers -------------------------------------------------------------------------------------


class ServerCost:
    """Frames a server sent and the CPU its process used, from its first publish on: CPU per frame
    moves far less with the machine's other load than frames per second do."""

    def __init__(self) -> None:
        self.frames = 0
        self._cpu_at: float | None = None

    def publishing(self) -> None:
        if self._cpu_at is None:
            self._cpu_at = time.process_time()

    def cpu_s(self) -> float:
        return time.process_time() - self._cpu_at if self._cpu_at is not None else math.nan


def run_bare_server(port: int, rate: float, ready: Any, go: MpEvent, stop: MpEvent) -> None:
    raise_fd_limit()

    async def main() -> None:
        import websockets
        from websockets.asyncio.server import serve

        from tradesim.entrypoints.http.tickers import ticker_frame

        subscribers: set[Any] = set()

        async def handler(connection: Any) -> None:
            try:
                async for message in connection:
                    request = msgspec.json.decode(message)
                    if request.get("op") == "subscribe" and f"tickers.{SYMBOL}" in request.get("args", []):
                        subscribers.add(connection)
                        answer = {"success": True, "ret_msg": "", "op": "subscribe"}
                        await connection.send(msgspec.json.encode(answer).decode())
            except websockets.ConnectionClosed:
                pass
            finally:
                subscribers.discard(connection)

        fanout_ms: list[float] = []
        cost = ServerCost()

        async def publish(seq: int) -> None:
            cost.publishing()
            frame = ticker_frame(make_ticker(seq))
            started = time.perf_counter()
            websockets.broadcast(subscribers, frame)
            fanout_ms.append((time.perf_counter() - started) * 1000)
            cost.frames += len(subscribers)

        async with serve(handler, HOST, port, compression=None, backlog=4096, max_queue=16, ping_interval=20):
            ready.put(("ready", ""))
            await publish_at_rate(rate, go, stop, publish)
        ready.put(("fanout", fanout_ms, cost.frames, cost.cpu_s()))

    asyncio.run(main())


def run_asgi_server(port: int, rate: float, ready: Any, go: MpEvent, stop: MpEvent) -> None:
    """The api with every push sent through ASGI (hypercorn frames it per socket): the path before
    ready-made frames, kept as a same-run baseline (`--asgi`)."""
    from tradesim.entrypoints.http.ws import endpoint

    endpoint.direct_writer = lambda send: None  # type: ignore[assignment]
    run_api_server(port, rate, ready, go, stop)


def run_api_server(port: int, rate: float, ready: Any, go: MpEvent, stop: MpEvent) -> None:
    raise_fd_limit()
    import logging

    from tradesim.entrypoints.container import build_container
    from tradesim.entrypoints.heap import settled_while_serving
    from tradesim.entrypoints.http.app import WIRED_MODULES, create_app
    from tradesim.entrypoints.http.observability import configure_logging
    from tradesim.entrypoints.http.server import serve_api
    from tradesim.entrypoints.settings import Settings

    configure_logging(level=logging.WARNING)
    # Every client is one user on one address (loopback): the per-user and per-address socket
    # quotas (docs/security.md) are raised to the run's size, since they are not what is measured.
    settings = Settings(
        jwt_secret="bench-" + "s" * 40,
        database_url="memory://",
        http_host=HOST,
        http_port=port,
        symbols=(SYMBOL,),
        max_websockets_per_user=100_000,
        max_websockets_per_address=1_000_000,
    )
    container = build_container(settings)
    container.wire(modules=list(WIRED_MODULES))
    app = create_app(container)
    app.while_serving(settled_while_serving)  # as `tradesim api` does

    async def main() -> None:
        await container.init_resources()  # type: ignore[misc]
        auth = container.auth()
        await auth.register("bench@example.com", "bench password")
        token = (await auth.login("bench@example.com", "bench password")).access_token
        bus = container.messaging.price_bus()
        hub = container.api.hub()
        fanout_ms: list[float] = []
        cost = ServerCost()
        broadcast = hub.broadcast

        async def timed_broadcast(*args: Any, **kwargs: Any) -> int:
            # Server-side cost of one frame to every subscriber, apart from the clients' own delays.
            started = time.perf_counter()
            delivered = await broadcast(*args, **kwargs)
            fanout_ms.append((time.perf_counter() - started) * 1000)
            cost.frames += delivered
            return delivered

        hub.broadcast = timed_broadcast  # type: ignore[method-assign]

        async def publish(seq: int) -> None:
            cost.publishing()
            await bus.publish(make_ticker(seq))

        async def until_stopped() -> None:
            while not stop.is_set():  # noqa: ASYNC110 - set by the parent process
                await asyncio.sleep(0.05)
            # The clients have hung up: let the server see every close before it stops (hypercorn
            # cancelling a connection's task logs a traceback per socket on Python 3.11).
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(10):
                    while len(hub):  # noqa: ASYNC110 - polled once, at the end of the run
                        await asyncio.sleep(0.05)

        async def announce() -> None:
            # hypercorn binds inside serve_api; wait for the socket to accept before saying ready.
            while True:
                with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=0.2):
                    break
                await asyncio.sleep(0.05)
            ready.put(("ready", token))

        await asyncio.gather(
            serve_api(app, settings, shutdown_trigger=until_stopped),
            announce(),
            publish_at_rate(rate, go, stop, publish),
        )
        ready.put(("fanout", fanout_ms, cost.frames, cost.cpu_s()))

    if os.environ.get("WS_FANOUT_PROFILE"):
        import cProfile

        cProfile.runctx("asyncio.run(main())", globals(), locals(), os.environ["WS_FANOUT_PROFILE"])
    else:
        asyncio.run(main())


# -- clients -------------------------------------------------------------------------------------


class RawClient(asyncio.Protocol):
    """A minimal WebSocket client on a bare asyncio protocol.

    The measurement must cost the client far less than the server, or the clients' own queues show
    up as latency: no per-frame coroutine, no JSON parsing of pushes (the `ts` is sliced out of the
    text), one receive timestamp per read.
    """

    def __init__(self, path: str, stats: Stats, subscribe: bytes) -> None:
        self.path = path
        self.stats = stats
        self.subscribe = subscribe
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.upgraded = False
        self.subscribed = asyncio.get_running_loop().create_future()
        self.closed = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        key = base64.b64encode(os.urandom(16)).decode()
        transport.write(
            f"GET {self.path} HTTP/1.1\r\nHost: {HOST}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
        )

    def data_received(self, data: bytes) -> None:
        received = time.time() * 1000
        buffer = self.buffer
        buffer += data
        if not self.upgraded:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            if not buffer.startswith(b"HTTP/1.1 101"):
                self._fail("handshake refused")
                return
            del buffer[: end + 4]
            self.upgraded = True
            self._send(0x1, self.subscribe)
        while len(buffer) >= 2:
            opcode = buffer[0] & 0x0F
            length = buffer[1] & 0x7F
            offset = 2
            if length == 126:
                if len(buffer) < 4:
                    return
                length = int.from_bytes(buffer[2:4], "big")
                offset = 4
            elif length == 127:
                if len(buffer) < 10:
                    return
                length = int.from_bytes(buffer[2:10], "big")
                offset = 10
            if len(buffer) < offset + length:
                return
            payload = bytes(buffer[offset : offset + length])
            del buffer[: offset + length]
            if opcode == 0x1:
                self._text(payload, received)
            elif opcode == 0x9:
                self._send(0xA, payload)
            elif opcode == 0x8:
                self._fail("closed by the server")
                return

    def _text(self, payload: bytes, received: float) -> None:
        at = payload.find(b'"ts":')
        if payload.startswith(b'{"topic"') and at > 0:
            stats = self.stats
            if stats.window[0] and stats.window[0] <= received <= stats.window[1]:
                stats.frames += 1
                end = payload.find(b",", at)
                stats.latencies.append(received - int(payload[at + 5 : end]))
        elif b'"op":"subscribe"' in payload and not self.subscribed.done():
            self.subscribed.set_result(True)

    def _send(self, opcode: int, payload: bytes) -> None:
        assert self.transport is not None
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        length = len(payload)
        header = bytes([0x80 | opcode]) + (
            bytes([0x80 | length]) if length < 126 else bytes([0x80 | 126]) + length.to_bytes(2, "big")
        )
        self.transport.write(header + mask + masked)

    def _fail(self, reason: str) -> None:
        if not self.subscribed.done():
            self.subscribed.set_exception(ConnectionError(reason))
        if not self.closed.done():
            self.closed.set_result(reason)
        if self.transport is not None:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail("connection lost")


class Stats:
    def __init__(self, window: Any) -> None:
        self.window = window
        self.frames = 0
        self.latencies: list[float] = []


def run_clients(count: int, path: str, port: int, window: Any, stop: MpEvent, results: Any, connected: Any) -> None:
    raise_fd_limit()

    async def main() -> None:
        loop = asyncio.get_running_loop()
        stats = Stats(window)
        subscribe = msgspec.json.encode({"op": "subscribe", "args": [f"tickers.{SYMBOL}"]})
        gate = asyncio.Semaphore(50)
        outcome = {"ready": 0, "failed": 0, "dropped": 0}
        protocols: list[RawClient] = []

        async def client() -> None:
            try:
                async with gate:
                    _, protocol = await loop.create_connection(lambda: RawClient(path, stats, subscribe), HOST, port)
                    protocols.append(protocol)
                    await asyncio.wait_for(protocol.subscribed, 60)
            except Exception:
                outcome["failed"] += 1
                connected.put(0)
                return
            outcome["ready"] += 1
            connected.put(1)

        await asyncio.gather(*(client() for _ in range(count)))
        while not stop.is_set():  # noqa: ASYNC110 - set by the parent process
            await asyncio.sleep(0.1)
        outcome["dropped"] = sum(1 for p in protocols if p.subscribed.done() and p.closed.done())
        for protocol in protocols:
            if protocol.transport is not None:
                protocol.transport.close()
        results.put({"frames": stats.frames, "latencies": stats.latencies, **outcome})

    asyncio.run(main())


# -- one run -------------------------------------------------------------------------------------


def measure(kind: str, clients: int, rate: float, duration: float, warmup: float, procs: int) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    port = free_port()
    ready, results, connected = ctx.Queue(), ctx.Queue(), ctx.Queue()
    go, stop, server_stop = ctx.Event(), ctx.Event(), ctx.Event()
    window = ctx.Array("d", [0.0, 0.0])
    target = {"api": run_api_server, "asgi": run_asgi_server, "bare": run_bare_server}[kind]
    server = ctx.Process(target=target, args=(port, rate, ready, go, server_stop), daemon=True)
    server.start()
    _, token = ready.get(timeout=60)
    path = "/ws" + (f"?token={token}" if token else "")
    shares = [clients // procs + (1 if i < clients % procs else 0) for i in range(procs)]
    workers = [
        ctx.Process(target=run_clients, args=(n, path, port, window, stop, results, connected), daemon=True)
        for n in shares
        if n
    ]
    started = time.monotonic()
    for worker in workers:
        worker.start()
    answered = 0
    deadline = time.monotonic() + 180
    while answered < clients and time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            connected.get(timeout=1)
            answered += 1
    connect_s = time.monotonic() - started
    go.set()
    now = time.time() * 1000
    window[0], window[1] = now + warmup * 1000, now + (warmup + duration) * 1000
    time.sleep(warmup + duration + 0.5)
    stop.set()
    reports = [results.get(timeout=60) for _ in workers]
    server_stop.set()
    fanout: list[float] = []
    sent, cpu_s = 0, math.nan
    with contextlib.suppress(Exception):
        _, times, sent, cpu_s = ready.get(timeout=30)
        fanout = sorted(times)
    server.join(timeout=15)
    if server.is_alive():
        server.kill()
    for worker in workers:
        worker.join(timeout=10)
    latencies = sorted(x for r in reports for x in r["latencies"])
    frames = sum(r["frames"] for r in reports)
    return {
        "kind": kind,
        "clients": clients,
        "held": sum(r["ready"] for r in reports) - sum(r["dropped"] for r in reports),
        "failed": sum(r["failed"] for r in reports),
        "connect_s": connect_s,
        "fps": frames / duration,
        "expected_fps": clients * rate,
        "p50": _percentile(latencies, 0.50),
        "p99": _percentile(latencies, 0.99),
        "max": latencies[-1] if latencies else math.nan,
        "dropped": sum(r["dropped"] for r in reports),
        "cpu_us_per_frame": cpu_s / sent * 1e6 if sent else math.nan,
        "fanout_p50": _percentile(fanout, 0.50),
        "fanout_p99": _percentile(fanout, 0.99),
    }


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return math.nan
    return values[min(len(values) - 1, int(q * len(values)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", default="1000,5000", help="comma-separated client counts")
    parser.add_argument("--rate", type=float, default=10.0, help="prices published per second")
    parser.add_argument("--duration", type=float, default=10.0, help="measurement window, seconds")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of publishing before measuring")
    parser.add_argument("--procs", type=int, default=0, help="client processes (default: 1 per 500 clients, >= 2)")
    parser.add_argument(
        "--asgi", action="store_true", help="also the api with every push sent through ASGI (the path before)"
    )
    parser.add_argument("--smallest", action="store_true", help="the smallest run, as the tests run it")
    args = parser.parse_args()
    if args.smallest:
        args.clients, args.duration, args.warmup, args.procs = "20", 1.0, 0.5, 1
    limit = raise_fd_limit()
    counts = [int(c) for c in args.clients.split(",") if c.strip()]
    print(
        f"ws fan-out: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, RLIMIT_NOFILE {limit}, "
        f"{args.rate:g} prices/s, {args.duration:g} s window after {args.warmup:g} s warm-up, compression off"
    )
    rows = []
    for clients in counts:
        procs = args.procs or max(2, math.ceil(clients / 500))
        for kind in ("bare", "api", "asgi") if args.asgi else ("bare", "api"):
            row = measure(kind, clients, args.rate, args.duration, args.warmup, procs)
            rows.append(row)
            print(
                f"{kind:>4} {clients:>5} clients: held {row['held']:>5}, connected in {row['connect_s']:5.1f} s, "
                f"{row['fps']:>9,.0f} frames/s delivered (ideal {row['expected_fps']:,.0f}), "
                f"latency p50 {row['p50']:6.1f} ms p99 {row['p99']:7.1f} ms max {row['max']:7.1f} ms, "
                f"dropped {row['dropped']}, failed to connect {row['failed']}; "
                f"server fan-out per message p50 {row['fanout_p50']:.1f} ms p99 {row['fanout_p99']:.1f} ms, "
                f"server CPU per frame sent {row['cpu_us_per_frame']:.1f} us",
                flush=True,
            )
    print("targets:")
    by = {(r["kind"], r["clients"]): r for r in rows}
    verdicts: list[tuple[str, bool, bool]] = []
    for clients in sorted({c for _, c in by}):
        if ("api", clients) not in by or ("bare", clients) not in by:
            continue
        api, bare = by[("api", clients)], by[("bare", clients)]
        ratio = api["fps"] / bare["fps"] if bare["fps"] else math.nan
        p99 = api["p99"] / bare["p99"] if bare["p99"] else math.nan
        judged = clients == 5000  # the size the targets are set at
        verdicts.append(
            (f"{clients:,} clients: api frames/s {ratio:.2f}x the bare server's (target >= 0.8x)", ratio >= 0.8, judged)
        )
        verdicts.append(
            (
                f"{clients:,} clients: api p99 {api['p99']:.1f} ms, {p99:.2f}x the bare server's {bare['p99']:.1f} ms"
                " (target <= 1.5x)",
                p99 <= 1.5,
                judged,
            )
        )
        verdicts.append((f"{clients:,} clients held by the api ({api['held']} held)", api["held"] == clients, judged))
        cpu = api["cpu_us_per_frame"] / bare["cpu_us_per_frame"] if bare["cpu_us_per_frame"] else math.nan
        verdicts.append(
            (f"{clients:,} clients: api server CPU per frame sent {cpu:.2f}x the bare server's", True, False)
        )
        if ("asgi", clients) in by:
            asgi = by[("asgi", clients)]
            text = (
                f"{clients:,} clients: the api pushing through ASGI only (the path before) "
                f"{asgi['fps'] / bare['fps'] if bare['fps'] else math.nan:.2f}x the bare server's frames/s, "
                f"p99 {asgi['p99'] / bare['p99'] if bare['p99'] else math.nan:.2f}x, CPU per frame "
                f"{asgi['cpu_us_per_frame'] / bare['cpu_us_per_frame'] if bare['cpu_us_per_frame'] else math.nan:.2f}x"
            )
            verdicts.append((text, True, False))
    for text, ok, judged in verdicts:
        print(f"  {('PASS' if ok else 'FAIL') if judged else 'info'}  {text}")
    return 0 if all(ok for _, ok, judged in verdicts if judged) else 1


if __name__ == "__main__":
    sys.exit(main())
