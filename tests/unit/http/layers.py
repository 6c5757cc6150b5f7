"""Serving the api with one of its ASGI fast paths (`OrderPost`, `BybitOrderCreate`) in or out of
the way, for the tests proving that a fast path answers exactly as the full Quart path does."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from tradesim.adapters.memory.clock import FixedClock
from tradesim.entrypoints.http.app import ApiOptions

from .conftest import T0, Api, api_container, running_api


class CountingApp:
    """An ASGI app in front of another that counts the requests it is given."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls = 0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        self.calls += 1
        await self.inner(scope, receive, send)


@contextlib.asynccontextmanager
async def serving(tmp_path: Path, layer: type, *, fast: bool) -> AsyncIterator[tuple[Api, CountingApp]]:
    """The api as the process serves it (`fast`), or with `layer` taken out of its chain of ASGI
    layers so that its requests go through the framework; and a counter of the requests that
    reached what is behind `layer`."""
    clock = FixedClock(T0)
    async with running_api(api_container(tmp_path, clock=clock), clock, ApiOptions(rate_limits=False)) as api:
        holder: Any = api.app
        attribute = "asgi_app"
        while not isinstance(getattr(holder, attribute), layer):  # down the chain of `inner`s
            holder, attribute = getattr(holder, attribute), "inner"
        found = getattr(holder, attribute)
        counter = CountingApp(found.inner)
        if fast:
            found.inner = counter
        else:
            setattr(holder, attribute, counter)
        yield api, counter
