"""One way to open a Redis client, with timeouts that turn an outage into an error quickly."""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis


def redis_client(url: str, **options: Any) -> Redis:
    """A client (with its own connection pool) for `url`; close it with `await client.aclose()`.

    Commands fail after a few seconds when Redis is unreachable instead of hanging; blocking
    pub/sub reads are not affected by `socket_timeout` (redis-py reads them without a limit).
    """
    settings: dict[str, Any] = {"socket_connect_timeout": 2.0, "socket_timeout": 5.0, "health_check_interval": 30}
    settings.update(options)
    return Redis.from_url(url, **settings)
