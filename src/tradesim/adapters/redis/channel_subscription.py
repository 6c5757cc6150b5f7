"""One Redis pub/sub channel read as an async iterator of decoded messages, riding out Redis outages.

Fire-and-forget like every pub/sub here: what is published while the subscription is away (not yet
open, or Redis unreachable) is not seen.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from typing import Generic, TypeVar

from redis.asyncio import Redis

from tradesim.adapters.redis.errors import UNREACHABLE, redis_call

log = logging.getLogger(__name__)

T = TypeVar("T")


class ChannelSubscription(Generic[T]):
    """`what` names the messages in logs and errors ("replay bars", "revocations")."""

    def __init__(self, client: Redis, channel: str, decode: Callable[[bytes | str], T], what: str) -> None:
        self._pubsub = client.pubsub(ignore_subscribe_messages=True)
        self._channel = channel
        self._decode = decode
        self._what = what
        self._subscribed = False
        self._closed = False

    async def open(self) -> None:
        """Subscribe now (iterating does it too); messages published before this are not seen."""
        if not self._subscribed:
            async with redis_call(f"subscribing to {self._what}"):
                await self._pubsub.subscribe(self._channel)
            self._subscribed = True

    async def __aiter__(self) -> AsyncIterator[T]:
        backoff = 0.1
        while not self._closed:
            try:
                await self.open()
                message = await self._pubsub.get_message(timeout=1.0)
                backoff = 0.1
            except UNREACHABLE as error:
                log.warning("%s subscription lost Redis (%s); retrying in %.1fs", self._what, error, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            if message is not None and message.get("type") == "message":
                yield self._decode(message["data"])

    async def aclose(self) -> None:
        self._closed = True
        await self._pubsub.aclose()  # type: ignore[no-untyped-call]
