"""Polling helpers for tests that wait on background tasks and other processes."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable


async def until(condition: Callable[[], object | Awaitable[object]], within: float = 3.0, step: float = 0.01) -> None:
    """Wait until `condition()` (maybe async) is truthy; TimeoutError after `within` seconds."""
    async with asyncio.timeout(within):
        while True:
            result = condition()
            if inspect.isawaitable(result):
                result = await result
            if result:
                return
            await asyncio.sleep(step)
