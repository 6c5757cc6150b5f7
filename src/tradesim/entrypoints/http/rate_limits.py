"""Login throttling with quart-rate-limiter: per client address and per email.

The store is Redis when the service has Redis (so every replica counts together), memory
otherwise. Keys expire with their window so Redis never accumulates them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from quart import request
from quart_rate_limiter import RateLimit, RateLimiter
from quart_rate_limiter.store import MemoryStore, RateLimiterStoreABC

WINDOW = timedelta(minutes=1)


async def client_address() -> str:
    # The peer address as hypercorn reports it. Behind a load balancer, run hypercorn's
    # ProxyFixMiddleware with the trusted hop count so this is the client's, and not spoofable.
    return f"addr:{request.remote_addr or 'unknown'}"


async def login_email() -> str:
    body = await request.get_json(silent=True)
    email = body.get("email") if isinstance(body, dict) else None
    return f"email:{email.strip().lower()[:254]}" if isinstance(email, str) else "email:(none)"


def login_limits(per_address: int = 20, per_email: int = 5) -> list[RateLimit]:
    """`per_address` attempts a minute from one address, `per_email` a minute at one email."""
    return [
        RateLimit(per_address, WINDOW, key_function=client_address),
        RateLimit(per_email, WINDOW, key_function=login_email),
    ]


def register_limits(per_address: int = 20) -> list[RateLimit]:
    return [RateLimit(per_address, WINDOW, key_function=client_address)]


class RedisRateLimitStore(RateLimiterStoreABC):
    """quart-rate-limiter's Redis store, with a key prefix and keys that expire after their window."""

    def __init__(self, url: str, *, prefix: str = "tradesim:ratelimit:", ttl: timedelta = timedelta(hours=1)) -> None:
        self._url = url
        self._prefix = prefix
        self._ttl_ms = int(ttl.total_seconds() * 1000)
        self._redis: Any = None

    async def before_serving(self) -> None:
        from redis import asyncio as aioredis

        self._redis = aioredis.from_url(self._url)

    async def get(self, key: str, default: datetime) -> datetime:
        value = await self._client().get(self._prefix + key)
        return default if value is None else datetime.fromtimestamp(float(value), tz=default.tzinfo)

    async def set(self, key: str, tat: datetime) -> None:
        await self._client().set(self._prefix + key, tat.timestamp(), px=self._ttl_ms)

    async def after_serving(self) -> None:
        if self._redis is not None:
            await self._client().aclose()
            self._redis = None

    def _client(self) -> Any:
        if self._redis is None:
            raise RuntimeError("the rate-limit store is used outside the app's serving lifetime")
        return self._redis


def build_limiter(redis_url: str | None, *, prefix: str = "tradesim:ratelimit:") -> RateLimiter:
    store: RateLimiterStoreABC = RedisRateLimitStore(redis_url, prefix=prefix) if redis_url else MemoryStore()
    return RateLimiter(key_function=client_address, store=store)
