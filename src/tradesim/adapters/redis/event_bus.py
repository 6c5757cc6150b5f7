"""Account events over Redis pub/sub, one channel per account (`account.{ACCOUNT_ID}`).

Per-account channels let each api process receive only the accounts of its connected users;
the subscription changes as sockets come and go. Pub/sub is fire-and-forget: the database is
the record, this only makes the screen move.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Sequence
from functools import partial

from redis.asyncio import Redis

from tradesim.adapters.codec import Codec
from tradesim.adapters.redis.errors import UNREACHABLE, redis_call
from tradesim.adapters.redis.replies import text
from tradesim.domain.events import EngineEvent
from tradesim.ports.messaging import EventFilter, account_channel

log = logging.getLogger(__name__)


class RedisEventBus:
    def __init__(self, client: Redis, namespace: str = "") -> None:
        self._client = client
        self._namespace = namespace
        self._codec = Codec()

    def channel(self, account_id: str) -> str:
        return self._namespace + account_channel(account_id)

    async def publish(self, events: Sequence[EngineEvent]) -> None:
        by_account: dict[str, list[EngineEvent]] = {}
        for event in events:
            by_account.setdefault(event.account_id, []).append(event)
        async with redis_call("publishing account events"):
            if len(by_account) == 1:
                # Most batches move one account: a pipeline would only add its own cost.
                [(account_id, batch)] = by_account.items()
                await self._client.publish(self.channel(account_id), self._codec.encode_events(batch))
                return
            async with self._client.pipeline(transaction=False) as pipe:
                for account_id, batch in by_account.items():
                    pipe.publish(self.channel(account_id), self._codec.encode_events(batch))
                await pipe.execute()

    def subscribe(self, wanted: EventFilter | None = None) -> RedisEventSubscription:
        return RedisEventSubscription(self, wanted)


class RedisEventSubscription:
    """Reconnects on its own after Redis restarts; redis-py re-subscribes the channels it had."""

    def __init__(self, bus: RedisEventBus, wanted: EventFilter | None = None) -> None:
        self._bus = bus
        self._wanted = wanted
        # A message's channel names its account: the filter runs before anything is decoded.
        self._account_at = len(bus.channel(""))
        self._pubsub = bus._client.pubsub(ignore_subscribe_messages=True)
        # A private channel keeps the connection open before the first account is watched.
        self._idle_channel = f"{bus._namespace}events.idle.{uuid.uuid4().hex}"
        self._ready = False
        self._closed = False

    async def _ensure_open(self) -> None:
        if not self._ready:
            await self._pubsub.subscribe(self._idle_channel)
            self._ready = True

    async def watch(self, account_id: str) -> None:
        async with redis_call("watching an account"):
            await self._ensure_open()
            await self._pubsub.subscribe(self._bus.channel(account_id))

    async def unwatch(self, account_id: str) -> None:
        async with redis_call("unwatching an account"):
            await self._pubsub.unsubscribe(self._bus.channel(account_id))

    async def __aiter__(self) -> AsyncIterator[EngineEvent]:
        backoff = 0.1
        while not self._closed:
            try:
                await self._ensure_open()
                message = await self._pubsub.get_message(timeout=1.0)
                backoff = 0.1
            except UNREACHABLE as error:
                log.warning("event subscription lost Redis (%s); retrying in %.1fs", error, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            if message is None or message.get("type") != "message":
                continue
            keep = None
            if (wanted := self._wanted) is not None:
                account_id = text(message["channel"])[self._account_at :]
                keep = partial(wanted, account_id)
            for event in self._bus._codec.decode_events(message["data"], keep):
                yield event

    async def aclose(self) -> None:
        self._closed = True
        await self._pubsub.aclose()  # type: ignore[no-untyped-call]
