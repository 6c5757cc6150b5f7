"""Partition leases in Redis: `SET NX PX` to take, compare-and-extend / compare-and-delete scripts
to renew and release (so a worker can never extend or drop a lease another worker now holds)."""

from __future__ import annotations

import time
from collections.abc import Iterable

from redis.asyncio import Redis

from tradesim.adapters.redis.errors import redis_call
from tradesim.adapters.redis.replies import text

_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


class RedisPartitionLeases:
    def __init__(self, client: Redis, namespace: str = "") -> None:
        self._client = client
        self._namespace = namespace
        self._renew = client.register_script(_RENEW)
        self._release = client.register_script(_RELEASE)

    def _key(self, partition: int) -> str:
        return f"{self._namespace}lease.partition.{partition}"

    @property
    def _workers(self) -> str:
        return f"{self._namespace}workers"

    async def heartbeat(self, worker_id: str, ttl_ms: int) -> list[str]:
        now_ms = int(time.time() * 1000)
        async with redis_call("heartbeat"), self._client.pipeline(transaction=True) as pipe:
            pipe.zadd(self._workers, {worker_id: now_ms + ttl_ms})
            pipe.zremrangebyscore(self._workers, "-inf", now_ms)
            pipe.zrange(self._workers, 0, -1)
            *_, members = await pipe.execute()
        return sorted(text(m) for m in members)

    async def acquire(self, worker_id: str, partition: int, ttl_ms: int) -> bool:
        async with redis_call("acquiring a lease"):
            if await self._client.set(self._key(partition), worker_id, nx=True, px=ttl_ms):
                return True
            return bool(await self._renew(keys=[self._key(partition)], args=[worker_id, ttl_ms]))

    async def renew(self, worker_id: str, partitions: Iterable[int], ttl_ms: int) -> set[int]:
        held: set[int] = set()
        async with redis_call("renewing leases"):
            for partition in partitions:
                if await self._renew(keys=[self._key(partition)], args=[worker_id, ttl_ms]):
                    held.add(partition)
        return held

    async def release(self, worker_id: str, partitions: Iterable[int]) -> None:
        async with redis_call("releasing leases"):
            for partition in partitions:
                await self._release(keys=[self._key(partition)], args=[worker_id])

    async def leave(self, worker_id: str) -> None:
        async with redis_call("leaving"):
            await self._client.zrem(self._workers, worker_id)
