"""Login throttling with quart-rate-limiter: per client address and per email.

The store is Redis when the service has Redis (so every replica counts together), memory
otherwise. Keys expire with their window so Redis never accumulates them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from quart import Response, current_app, request
from quart_rate_limiter import RateLimit, RateLimiter
from quart_rate_limiter.store import MemoryStore, RateLimiterStoreABC
from redis.asyncio import Redis

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

    def __init__(
        self, client: Redis, *, prefix: str = "tradesim:ratelimit:", ttl: timedelta = timedelta(hours=1)
    ) -> None:
        self._redis = client
        self._prefix = prefix
        self._ttl_ms = int(ttl.total_seconds() * 1000)

    async def before_serving(self) -> None:
        """Nothing to open: the client is the process's, started and closed by its container."""

    async def after_serving(self) -> None:
        """Nothing to close (the container closes the client)."""

    async def get(self, key: str, default: datetime) -> datetime:
        value = await self._redis.get(self._prefix + key)
        return default if value is None else datetime.fromtimestamp(float(value), tz=default.tzinfo)

    async def set(self, key: str, tat: datetime) -> None:
        await self._redis.set(self._prefix + key, tat.timestamp(), px=self._ttl_ms)


class RouteRateLimiter(RateLimiter):
    """quart-rate-limiter whose per-request work runs only for the routes that carry limits.

    Its hooks are the app's, so every request went through them, the order entry included, to
    find no limit: 121,000 instructions of the 3.5 million an order's POST takes in-process
    (callgrind). The routes with limits are found once, from the app's view functions (the
    limiter has no default limits: a route is limited by its `rate_limit` decorator only).
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._limited: frozenset[str] | None = None

    def limited_endpoints(self) -> frozenset[str]:
        if self._limited is None:
            app = current_app
            self._limited = frozenset(
                endpoint
                for endpoint, view in app.view_functions.items()
                if self._get_limits_for_view_function(view, app.blueprints.get(endpoint.rpartition(".")[0]))
            )
        return self._limited

    async def _before_request(self) -> None:
        if request.endpoint in self.limited_endpoints():
            await super()._before_request()

    async def _after_request(self, response: Response) -> Response:
        if request.endpoint in self.limited_endpoints():
            return await super()._after_request(response)
        return response


def build_limiter(redis: Redis | None, *, prefix: str = "tradesim:ratelimit:") -> RouteRateLimiter:
    store: RateLimiterStoreABC = RedisRateLimitStore(redis, prefix=prefix) if redis is not None else MemoryStore()
    return RouteRateLimiter(key_function=client_address, store=store)
