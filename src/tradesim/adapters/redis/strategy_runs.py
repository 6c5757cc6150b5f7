"""Strategy runs over Redis: the catalogue workers publish (one key), and run progress on pub/sub.

Catalogue: key ``strategies.catalogue``, the JSON list of `StrategySpec.as_dict()`; each worker
that loads its catalogue overwrites it (workers of one deployment share their configuration).
Progress: channel ``strategy-run.{runId}`` (the WebSocket topic's name), fire-and-forget.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from redis.asyncio import Redis

from tradesim.adapters.redis.channel_subscription import ChannelSubscription
from tradesim.adapters.redis.errors import redis_call
from tradesim.domain.strategy_runs import run_topic
from tradesim.domain.strategy_specs import StrategySpec


class RedisStrategyCatalogueBoard:
    def __init__(self, client: Redis, namespace: str = "") -> None:
        self._client = client
        self.key = f"{namespace}strategies.catalogue"

    async def publish(self, specs: Sequence[StrategySpec]) -> None:
        payload = json.dumps([s.as_dict() for s in specs], separators=(",", ":"))
        async with redis_call("publishing the strategy catalogue"):
            await self._client.set(self.key, payload)

    async def read(self) -> list[StrategySpec] | None:
        async with redis_call("reading the strategy catalogue"):
            payload = await self._client.get(self.key)
        if payload is None:
            return None
        return [StrategySpec.from_dict(item) for item in json.loads(payload)]


def _decode(data: bytes | str) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(data)
    return message


class RedisStrategyRunUpdates:
    def __init__(self, client: Redis, namespace: str = "") -> None:
        self._client = client
        self._namespace = namespace

    def channel(self, run_id: str) -> str:
        return self._namespace + run_topic(run_id)

    async def publish(self, run_id: str, message: dict[str, Any]) -> None:
        async with redis_call("publishing a strategy run's progress"):
            await self._client.publish(self.channel(run_id), json.dumps(message, separators=(",", ":")))

    def subscribe(self, run_id: str) -> ChannelSubscription[dict[str, Any]]:
        return ChannelSubscription(self._client, self.channel(run_id), _decode, "strategy run updates")
