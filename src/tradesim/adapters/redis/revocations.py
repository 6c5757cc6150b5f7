"""Revoked token families on the channel `{namespace}auth.revoked`, so that every api process ends its
open sockets of them (fire-and-forget like prices: a process that was away misses nothing it holds,
since its sockets went with it)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

from redis.asyncio import Redis

from tradesim.adapters.redis.errors import UNREACHABLE, redis_call
from tradesim.adapters.redis.replies import text

log = logging.getLogger(__name__)


class RedisRevocationBus:
    def __init__(self, client: Redis, namespace: str = "") -> None:
        self._client = client
        self._channel = f"{namespace}auth.revoked"

    async def publish(self, family_id: str) -> None:
        async with redis_call("publishing a revocation"):
            await self._client.publish(self._channel, family_id)

    def subscribe(self) -> RedisRevocationSubscription:
        return RedisRevocationSubscription(self._client, self._channel)


class RedisRevocationSubscription:
    def __init__(self, client: Redis, channel: str) -> None:
        self._pubsub = client.pubsub(ignore_subscribe_messages=True)
        self._channel = channel
        self._subscribed = False
        self._closed = False

    async def open(self) -> None:
        """Subscribe now (iterating does it too); revocations published before this are not seen."""
        if not self._subscribed:
            async with redis_call("subscribing to revocations"):
                await self._pubsub.subscribe(self._channel)
            self._subscribed = True

    async def __aiter__(self) -> AsyncIterator[str]:
        backoff = 0.1
        while not self._closed:
            try:
                await self.open()
                message = await self._pubsub.get_message(timeout=1.0)
                backoff = 0.1
            except UNREACHABLE as error:
                log.warning("revocation subscription lost Redis (%s); retrying in %.1fs", error, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            if message is not None and message.get("type") == "message":
                yield text(message["data"])

    async def aclose(self) -> None:
        self._closed = True
        await self._pubsub.aclose()  # type: ignore[no-untyped-call]
