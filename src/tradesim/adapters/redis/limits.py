"""Rate counters in Redis: a sorted set of admission times per key, trimmed, counted and added to
in one script (so two api processes never both admit the last free attempt); fixed windows as one
counter per key and window, counted and given its expiry in one script; every key expires with its
window."""

from __future__ import annotations

import itertools
import os

from redis.asyncio import Redis

from tradesim.adapters.redis.errors import redis_call

_TAKE = """
redis.call('zremrangebyscore', KEYS[1], '-inf', ARGV[1] - ARGV[3])
if redis.call('zcard', KEYS[1]) >= tonumber(ARGV[2]) then
  local oldest = redis.call('zrange', KEYS[1], 0, 0, 'WITHSCORES')
  return oldest[2] + ARGV[3] - ARGV[1]
end
redis.call('zadd', KEYS[1], ARGV[1], ARGV[4])
redis.call('pexpire', KEYS[1], ARGV[3])
return 0
"""

_HOLD = """
redis.call('zremrangebyscore', KEYS[1], '-inf', ARGV[1])
if not redis.call('zscore', KEYS[1], ARGV[4]) and redis.call('zcard', KEYS[1]) >= tonumber(ARGV[2]) then
  return 0
end
redis.call('zadd', KEYS[1], ARGV[1] + ARGV[3], ARGV[4])
redis.call('pexpire', KEYS[1], ARGV[3])
return 1
"""


_COUNT = """
local used = redis.call('incrby', KEYS[1], ARGV[2])
if used == tonumber(ARGV[2]) then redis.call('pexpire', KEYS[1], ARGV[1]) end
return used
"""


class RedisRateCounters:
    def __init__(self, client: Redis, namespace: str = "") -> None:
        self._client = client
        self._prefix = f"{namespace}tradesim:ratelimit:"
        self._take = client.register_script(_TAKE)
        self._hold = client.register_script(_HOLD)
        self._count = client.register_script(_COUNT)
        # Members must differ when two events share a millisecond.
        self._member_prefix = os.urandom(6).hex()
        self._members = itertools.count()

    async def take(self, key: str, limit: int, window_ms: int, now_ms: int) -> int:
        member = f"{self._member_prefix}:{next(self._members)}"
        async with redis_call("counting attempts"):
            wait = await self._take(keys=[self._prefix + key], args=[now_ms, limit, window_ms, member])
        return max(int(wait), 0)

    async def count(self, key: str, window_ms: int, now_ms: int, n: int = 1) -> int:
        window = now_ms - now_ms % window_ms
        # Kept a window past its end: clocks of two processes may differ a little.
        async with redis_call("counting requests"):
            used = await self._count(keys=[f"{self._prefix}{key}:{window}"], args=[2 * window_ms, n])
        return int(used)

    async def hold(self, key: str, member: str, limit: int, ttl_ms: int, now_ms: int) -> bool:
        async with redis_call("holding a place"):
            held = await self._hold(keys=[self._prefix + key], args=[now_ms, limit, ttl_ms, member])
        return bool(held)

    async def let_go(self, key: str, member: str) -> None:
        async with redis_call("letting a place go"):
            await self._client.zrem(self._prefix + key, member)

    async def remember(self, key: str, ttl_ms: int) -> None:
        async with redis_call("remembering"):
            await self._client.set(self._prefix + key, 1, px=ttl_ms)

    async def knows(self, key: str) -> bool:
        async with redis_call("recalling"):
            return bool(await self._client.exists(self._prefix + key))
