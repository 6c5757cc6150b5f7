"""Live API keys read lately, kept briefly so that a bot's requests do not each read the store.

A revocation drops its key at once on the process that revoked it, and on every other api process as
soon as the revocation bus tells it (`follow`); the revoking process publishes before it answers the
revocation, so the bus has carried it by the time the user hears the key is gone. An entry is also
never older than `ttl_ms`: should the bus lose a revocation (Redis unreachable), the key is read from
the store again within that time. Unknown keys are never kept: each attempt reads the store.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from tradesim.ports.clock import Clock
from tradesim.ports.security import RevocationBus

if TYPE_CHECKING:
    from tradesim.application.api_keys import KeyCredentials

#: Before a revoked key's name on the revocation bus (token families are uuids: no clash).
KEY_PREFIX = "api-key:"
#: At worst (a revocation the bus lost) a revoked key is served this long after its revocation.
DEFAULT_TTL_MS = 5_000
DEFAULT_MAX_KEYS = 10_000


def revoked_key_name(api_key: str) -> str:
    """What the revocation bus carries for a revoked key."""
    return KEY_PREFIX + api_key


class KeyCache:
    def __init__(self, clock: Clock, *, ttl_ms: int = DEFAULT_TTL_MS, max_keys: int = DEFAULT_MAX_KEYS) -> None:
        self._clock = clock
        self._ttl_ms = ttl_ms
        self._max_keys = max_keys
        self._entries: OrderedDict[str, tuple[int, KeyCredentials]] = OrderedDict()
        #: Revocations seen so far: a read that began before one may not keep what it read.
        self.revocations = 0
        self._reading: dict[str, asyncio.Future[KeyCredentials]] = {}

    def get(self, api_key: str) -> KeyCredentials | None:
        entry = self._entries.get(api_key)
        if entry is None:
            return None
        if entry[0] <= self._clock.now_ms():
            del self._entries[api_key]
            return None
        return entry[1]

    async def read_once(self, api_key: str, read: Callable[[str], Awaitable[KeyCredentials]]) -> KeyCredentials:
        """`read(api_key)` from the store and keep what it finds; requests of the key that arrive while
        it reads share its answer (a bot's burst as its entry expires costs one read, not one each)."""
        pending = self._reading.get(api_key)
        if pending is not None:
            try:
                return await asyncio.shield(pending)
            except asyncio.CancelledError:
                if not pending.cancelled():
                    raise  # this request was cancelled, not the read it waited for
                return await read(api_key)
        future: asyncio.Future[KeyCredentials] = asyncio.get_running_loop().create_future()
        self._reading[api_key] = future
        began = self.revocations
        try:
            credentials = await read(api_key)
        except Exception as error:
            future.set_exception(error)
            future.exception()  # marked retrieved: a read nobody waited for is no bug
            raise
        except BaseException:
            future.cancel()  # its waiters read for themselves
            raise
        finally:
            del self._reading[api_key]
        future.set_result(credentials)
        self.keep(credentials, read_after=began)
        return credentials

    def keep(self, credentials: KeyCredentials, *, read_after: int) -> None:
        """Keep credentials read from the store, unless a revocation was told since the read began
        (`read_after`: `revocations` then), since it may be this key's."""
        if read_after != self.revocations:
            return
        self._entries[credentials.key.api_key] = (self._clock.now_ms() + self._ttl_ms, credentials)
        self._entries.move_to_end(credentials.key.api_key)
        while len(self._entries) > self._max_keys:
            self._entries.popitem(last=False)

    def drop(self, api_key: str) -> None:
        self.revocations += 1
        self._entries.pop(api_key, None)

    async def follow(self, revocations: RevocationBus) -> None:
        """Until cancelled: drop the keys the bus says were revoked (on any api process)."""
        subscription = revocations.subscribe()
        try:
            async for name in subscription:
                if name.startswith(KEY_PREFIX):
                    self.drop(name.removeprefix(KEY_PREFIX))
        finally:
            with contextlib.suppress(Exception):
                await subscription.aclose()
