"""The one way tests wait: on a condition, polled, with a generous limit that only a failure reaches.

`until` serves tests running in an event loop; `wait_for` serves those that drive other processes
from plain code (it blocks the thread). Both return the condition's first truthy value, so a test
can wait for a result and then assert on it. Neither decides anything by the clock: the limit only
turns a hang into a failure that names what never happened.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Callable
from typing import Any

import httpx
import redis

#: Errors that mean "not yet" while a process starts or a server restarts.
NOT_YET: tuple[type[BaseException], ...] = (httpx.HTTPError, redis.RedisError, OSError)


async def until(condition: Callable[[], object], within: float = 3.0, step: float = 0.01, *, what: str = "") -> Any:
    """Wait until `condition()` (maybe async) is truthy and return it; TimeoutError after `within` seconds."""
    try:
        async with asyncio.timeout(within):
            while True:
                result = condition()
                if inspect.isawaitable(result):
                    result = await result
                if result:
                    return result
                await asyncio.sleep(step)
    except TimeoutError:
        if what:
            raise TimeoutError(f"timed out after {within:g} s waiting for {what}") from None
        raise


def wait_for(
    check: Callable[[], Any],
    timeout: float,
    what: str,
    every: float = 0.1,
    ignoring: tuple[type[BaseException], ...] = NOT_YET,
) -> Any:
    """Poll `check()` until it returns something truthy and return it; fail naming `what` after
    `timeout` seconds. The errors in `ignoring` count as "not yet"."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = check()
        except ignoring:
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(every)
