"""`WebSocketFeed`: a `MarketFeed` over one WebSocket connection that keeps itself alive.

One loop per connection: connect, subscribe (in a helper task, paced as the venue asks),
ping on the venue's schedule, read frames and decode them with the venue's dialect. A
watchdog drops the connection when no market data arrived for `stale_after` seconds; any
loss of the connection marks every symbol of the feed stale (`FeedStatus(stale=True)`)
until its first fresh ticker (`FeedStatus(stale=False)`, then the ticker), so the engine
never fills on prices from a feed that stopped. Then it reconnects with backoff and
subscribes again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import AsyncIterator, Callable, Sequence

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, ConnectionClosedOK, WebSocketException
from websockets.uri import parse_uri

from tradesim.adapters.system_clock import wall_clock_ms
from tradesim.adapters.wsfeed.backoff import Backoff
from tradesim.adapters.wsfeed.config import FeedConfig
from tradesim.adapters.wsfeed.dialect import Dialect, Unusable
from tradesim.adapters.wsfeed.stats import FeedStats
from tradesim.domain.enums import Category
from tradesim.domain.errors import InvalidInput
from tradesim.domain.market import FeedStatus, MarketEvent, Ticker

log = logging.getLogger("tradesim.feed")

DialectFactory = Callable[[Sequence[str], FeedStats], Dialect]


class _Progress:
    """Shared by the reader and the watchdog of one connection."""

    __slots__ = ("frames", "stalled")

    def __init__(self) -> None:
        self.frames = 0
        self.stalled = False


class WebSocketFeed:
    """Streams one venue connection's events; `stats` counts what happened, by reason."""

    def __init__(
        self,
        name: str,
        url: str,
        make_dialect: DialectFactory,
        config: FeedConfig | None = None,
        *,
        clock_ms: Callable[[], int] = wall_clock_ms,
        rng: random.Random | None = None,
    ) -> None:
        parse_uri(url)  # a malformed URL is a configuration error, not something to retry
        self.name = name
        self.url = url
        self.config = config or FeedConfig()
        self.stats = FeedStats(name)
        self._make_dialect = make_dialect
        self._clock_ms = clock_ms
        self._rng = rng

    async def stream(self, symbols: Sequence[str]) -> AsyncIterator[MarketEvent]:
        config = self.config
        stats = self.stats
        dialect = self._make_dialect(tuple(dict.fromkeys(symbols)), stats)
        backoff = Backoff(config.backoff_initial, config.backoff_cap, rng=self._rng)
        stale: set[tuple[Category, str]] = set()
        loop = asyncio.get_running_loop()
        while True:
            progress = _Progress()
            opened: float | None = None
            try:
                async with connect(
                    self.url,
                    ping_interval=None,  # the venues want application-level pings (below)
                    compression=None,
                    open_timeout=config.open_timeout,
                    close_timeout=config.close_timeout,
                    max_size=config.max_message_bytes,
                    max_queue=config.max_queue,
                ) as ws:
                    opened = loop.time()
                    stats.count("connected")
                    log.info("%s: connected to %s", self.name, self.url)
                    dialect.on_connect()
                    helpers = (
                        asyncio.create_task(self._subscribe(ws, dialect)),
                        asyncio.create_task(self._heartbeat(ws, dialect)),
                        asyncio.create_task(self._watch(ws, progress)),
                    )
                    try:
                        decode = dialect.decode
                        while True:
                            frame = await ws.recv(decode=False)
                            try:
                                events = decode(frame)
                            except Unusable as exc:
                                stats.drop(exc.reason, exc.detail)
                                continue
                            except InvalidInput as exc:  # the domain refused the values (bid above ask...)
                                stats.drop("invalid", exc.message)
                                continue
                            except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
                                stats.drop("malformed", f"{type(exc).__name__}: {exc}")
                                continue
                            if events is None:
                                continue
                            progress.frames += 1
                            for event in events:
                                if stale and event.__class__ is Ticker:
                                    key = (event.category, event.symbol)
                                    if key in stale:
                                        stale.discard(key)
                                        yield FeedStatus(event.symbol, False, event.ts, event.category)
                                yield event
                    finally:
                        for task in helpers:
                            task.cancel()
            except ConnectionClosedOK:
                stats.count("closed_by_server")
                log.info("%s: the server closed the connection", self.name)
            except (OSError, TimeoutError, WebSocketException) as exc:
                if progress.stalled:
                    stats.count("stalled")
                    log.warning("%s: no market data for %.1f s; reconnecting", self.name, config.stale_after)
                elif opened is None:
                    stats.count("connect_failed")
                    log.warning("%s: cannot connect to %s: %s", self.name, self.url, _describe(exc))
                else:
                    stats.count("connection_lost")
                    log.warning("%s: connection lost: %s", self.name, _describe(exc))
            now = self._clock_ms()
            for key in dialect.instruments:
                if key not in stale:
                    stale.add(key)
                    stats.count("marked_stale")
                    yield FeedStatus(key[1], True, now, key[0])
            if opened is not None and loop.time() - opened >= config.healthy_after:
                backoff.reset()
            delay = backoff.next_delay()
            stats.count("reconnects")
            log.info("%s: reconnecting in %.2f s", self.name, delay)
            await asyncio.sleep(delay)

    async def _subscribe(self, ws: ClientConnection, dialect: Dialect) -> None:
        """Send the subscriptions, paced as the venue asks (they are read while this runs)."""
        with contextlib.suppress(ConnectionClosed):
            for n, frame in enumerate(dialect.subscribe_frames()):
                if n:
                    await asyncio.sleep(dialect.send_interval)
                await ws.send(frame)
                self.stats.count("subscribe_requests")

    async def _heartbeat(self, ws: ClientConnection, dialect: Dialect) -> None:
        """Ping on the venue's schedule from the start, even while long subscriptions are still going out."""
        interval = self.config.heartbeat_interval or dialect.heartbeat_interval
        with contextlib.suppress(ConnectionClosed):
            while True:
                await asyncio.sleep(interval)
                await ws.send(dialect.ping_frame())
                self.stats.count("pings")

    async def _watch(self, ws: ClientConnection, progress: _Progress) -> None:
        """Drop the connection once no data frame arrived for `stale_after` seconds.

        The reader only bumps a counter per frame; this task looks at it a few times per
        threshold, so the hot path pays no timer per message.
        """
        loop = asyncio.get_running_loop()
        limit = self.config.stale_after
        seen = progress.frames
        quiet_since = loop.time()
        while True:
            await asyncio.sleep(limit / 4)
            if progress.frames != seen:
                seen = progress.frames
                quiet_since = loop.time()
            elif loop.time() - quiet_since >= limit:
                progress.stalled = True
                # A silent peer may not answer a closing handshake either: cut the socket.
                ws.transport.abort()
                return


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
