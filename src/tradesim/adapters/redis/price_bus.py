"""`PriceBus` on Redis pub/sub: channel `{namespace}ticker.{SYMBOL}`, payloads from `market_codec`.

Publishing never waits on Redis. `publish` appends the event to a per-channel batch and a
background task sends whatever has gathered in one pipeline, one PUBLISH per channel per
round: under load a message carries many events (one round trip for hundreds of ticks),
when quiet it carries one (sent as soon as the publisher yields to the event loop). While
Redis is unreachable, batches are dropped and counted (prices are worthless once old) and
sending is retried with a growing delay.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterable

from redis.asyncio import Redis
from redis.exceptions import RedisError

from tradesim.adapters.redis.market_codec import CodecError, decode_events, encode_events
from tradesim.domain.market import MarketEvent
from tradesim.ports.messaging import price_channel

log = logging.getLogger("tradesim.redis")

_CLOSED = object()
_RETRY_INITIAL = 0.1
_RETRY_CAP = 5.0


class RedisPriceBus:
    """Counts `sent` and `dropped` events; `flush()` waits until everything published is sent (or dropped)."""

    def __init__(
        self,
        client: Redis,
        *,
        namespace: str = "",
        max_pending: int = 100_000,
        subscriber_capacity: int = 10_000,
        owns_client: bool = True,
        close_timeout: float = 2.0,
    ) -> None:
        self._client = client
        self.close_timeout = close_timeout
        self.namespace = namespace
        self._max_pending = max_pending
        self._subscriber_capacity = subscriber_capacity
        self._owns_client = owns_client
        self._channels: dict[str, str] = {}
        self._pending: dict[str, list[MarketEvent]] = {}
        self._pending_count = 0
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._sender: asyncio.Task[None] | None = None
        self._subscriptions: set[RedisPriceSubscription] = set()
        self.sent = 0
        self.dropped = 0
        self.messages = 0

    def channel(self, symbol: str) -> str:
        channel = self._channels.get(symbol)
        if channel is None:
            channel = self._channels[symbol] = f"{self.namespace}{price_channel(symbol)}"
        return channel

    async def publish(self, event: MarketEvent) -> None:
        channel = self._channels.get(event.symbol) or self.channel(event.symbol)
        batch = self._pending.get(channel)
        if batch is None:
            self._pending[channel] = [event]
        else:
            batch.append(event)
        self._pending_count += 1
        if self._pending_count > self._max_pending:
            # Redis cannot keep up or is down: old prices are worthless, keep memory bounded.
            self.dropped += self._pending_count
            log.warning("price bus: %d unsent events dropped (Redis is not keeping up)", self._pending_count)
            self._pending.clear()
            self._pending_count = 0
            return
        if not self._wake.is_set():
            self._idle.clear()
            self._wake.set()
            if self._sender is None:
                self._sender = asyncio.create_task(self._send_loop(), name="redis-price-bus")

    async def _send_loop(self) -> None:
        delay = _RETRY_INITIAL
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                batches, count = self._pending, self._pending_count
                self._pending, self._pending_count = {}, 0
                try:
                    async with self._client.pipeline(transaction=False) as pipe:
                        for channel, events in batches.items():
                            pipe.publish(channel, encode_events(events))
                        await pipe.execute()
                except (RedisError, OSError) as exc:
                    self.dropped += count
                    log.warning("price bus: cannot publish %d events (retrying in %.1f s): %s", count, delay, exc)
                    await asyncio.sleep(delay)
                    delay = min(_RETRY_CAP, delay * 2)
                else:
                    self.sent += count
                    self.messages += len(batches)
                    delay = _RETRY_INITIAL
            if not self._wake.is_set():
                self._idle.set()

    async def flush(self) -> None:
        """Wait until every event published so far was sent or dropped."""
        await self._idle.wait()

    def subscribe(self, symbols: Iterable[str]) -> RedisPriceSubscription:
        """Starts subscribing at once (in the background); iterate the result for events."""
        subscription = RedisPriceSubscription(
            self._client, [self.channel(s) for s in symbols], self._subscriber_capacity, self._subscriptions
        )
        self._subscriptions.add(subscription)
        return subscription

    async def aclose(self) -> None:
        """Send what is pending (for up to `close_timeout` seconds), end subscriptions, close the client."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.close_timeout):
                await self.flush()
        if self._sender is not None:
            self._sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sender
            self._sender = None
        for subscription in list(self._subscriptions):
            await subscription.aclose()
        if self._owns_client:
            await self._client.aclose()


class RedisPriceSubscription:
    """Events of some symbols' channels through a bounded queue; when full, the oldest is dropped."""

    def __init__(self, client: Redis, channels: list[str], capacity: int, owner: set[RedisPriceSubscription]) -> None:
        self._client = client
        self.channels = channels
        self._owner = owner
        self._queue: asyncio.Queue[object] = asyncio.Queue(maxsize=capacity)
        self._subscribed = asyncio.Event()
        self.dropped = 0
        self.undecodable = 0
        self._task = asyncio.create_task(self._receive(), name="redis-price-subscription")

    async def ready(self) -> None:
        """Wait until Redis confirmed the subscription (later publishes are sure to arrive)."""
        await self._subscribed.wait()

    def _offer(self, item: object) -> None:
        if self._queue.full():
            self._queue.get_nowait()
            self.dropped += 1
        self._queue.put_nowait(item)

    async def _receive(self) -> None:
        delay = _RETRY_INITIAL
        while True:
            pubsub = self._client.pubsub()
            try:
                await pubsub.subscribe(*self.channels)
                self._subscribed.set()
                delay = _RETRY_INITIAL
                while True:
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=None)
                    if message is None or message["type"] != "message":
                        continue
                    try:
                        events = decode_events(message["data"])
                    except CodecError as exc:
                        self.undecodable += 1
                        log.warning("price subscription: skipped an undecodable message: %s", exc)
                        continue
                    for event in events:
                        self._offer(event)
            except (RedisError, OSError) as exc:
                self._subscribed.clear()
                log.warning("price subscription: Redis unavailable (retrying in %.1f s): %s", delay, exc)
                await asyncio.sleep(delay)
                delay = min(_RETRY_CAP, delay * 2)
            finally:
                with contextlib.suppress(RedisError, OSError):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def __aiter__(self) -> AsyncIterator[MarketEvent]:
        while True:
            item = await self._queue.get()
            if item is _CLOSED:
                return
            yield item  # type: ignore[misc]

    async def aclose(self) -> None:
        if self not in self._owner:
            return
        self._owner.discard(self)
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._offer(_CLOSED)
