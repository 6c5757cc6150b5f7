"""Readiness of Redis: a PING, bounded in time."""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis

from tradesim.adapters.redis.errors import UNREACHABLE
from tradesim.ports.errors import DependencyUnavailable


class RedisHealth:
    name = "redis"

    def __init__(self, client: Redis, timeout_s: float = 2.0) -> None:
        self._client = client
        self._timeout = timeout_s

    async def check(self) -> None:
        try:
            async with asyncio.timeout(self._timeout):
                await self._client.ping()
        except TimeoutError:
            raise DependencyUnavailable(f"Redis did not answer within {self._timeout:g} s") from None
        except UNREACHABLE as error:
            raise DependencyUnavailable(f"Redis unreachable: {error}") from error
