"""Turning Redis client failures into the port's typed, retryable error."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from redis import exceptions as redis_errors

from tradesim.ports.errors import DependencyUnavailable

UNREACHABLE = (redis_errors.ConnectionError, redis_errors.TimeoutError, OSError)


@contextlib.asynccontextmanager
async def redis_call(what: str) -> AsyncIterator[None]:
    try:
        yield
    except UNREACHABLE as error:
        raise DependencyUnavailable(f"Redis unreachable while {what}: {error}") from error
