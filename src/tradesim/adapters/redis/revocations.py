"""Revoked token families on the channel `{namespace}auth.revoked`, so that every api process ends its
open sockets of them (fire-and-forget like prices: a process that was away misses nothing it holds,
since its sockets went with it)."""

from __future__ import annotations

from redis.asyncio import Redis

from tradesim.adapters.redis.channel_subscription import ChannelSubscription
from tradesim.adapters.redis.errors import redis_call
from tradesim.adapters.redis.replies import text


class RedisRevocationBus:
    def __init__(self, client: Redis, namespace: str = "") -> None:
        self._client = client
        self._channel = f"{namespace}auth.revoked"

    async def publish(self, family_id: str) -> None:
        async with redis_call("publishing a revocation"):
            await self._client.publish(self._channel, family_id)

    def subscribe(self) -> ChannelSubscription[str]:
        return ChannelSubscription(self._client, self._channel, text, "revocations")
