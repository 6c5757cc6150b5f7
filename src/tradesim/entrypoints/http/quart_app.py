"""The api's Quart class: Quart with the per-request work a stateless JSON api never needs left out.

Every request pays for what the framework does around the view, and the order route is the
api's hottest path, so two pieces of Quart's generic machinery are cut to what this api uses:

- Sessions. The api authenticates with bearer tokens and sets no cookies, yet Quart opens a
  cookie session for every request (it looks for a signing key, then builds an empty session).
  `NoSessions` answers every request with one shared null session, which Quart never saves.
- `ensure_async`, which Quart calls on every hook and view of every request to check whether
  it is a coroutine function (`inspect.iscoroutinefunction`, a dozen calls per request here).
  A function's answer never changes, so it is remembered per function.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from quart import Quart
from quart.sessions import NullSession, SecureCookieSessionInterface
from quart.wrappers import BaseRequestWebsocket

#: How many functions `TradesimQuart.ensure_async` remembers at most.
REMEMBERED_FUNCTIONS = 1024


class NoSessions(SecureCookieSessionInterface):
    """No session for anyone: the same empty, never-saved session for every request (a subclass of
    Quart's cookie sessions only to keep the type Quart declares; none of their cookie work runs)."""

    _null = NullSession()

    async def open_session(self, app: Quart, request: BaseRequestWebsocket) -> NullSession:
        return self._null

    async def save_session(self, app: Quart, session: Any, response: Any) -> None:
        return None  # never called for a null session; a no-op should that change


class TradesimQuart(Quart):
    session_interface = NoSessions()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._async_of: dict[Callable[..., Any], Callable[..., Awaitable[Any]]] = {}

    def ensure_async(self, func: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
        try:
            return self._async_of[func]
        except KeyError:
            wrapped = super().ensure_async(func)
            # Hooks and views are few and live as long as the app; a function made per request
            # (`after_this_request`) would grow the memory without end, so it stops at a bound.
            if len(self._async_of) < REMEMBERED_FUNCTIONS:
                self._async_of[func] = wrapped
            return wrapped
        except TypeError:  # an unhashable callable: asked every time, as Quart does
            return super().ensure_async(func)
