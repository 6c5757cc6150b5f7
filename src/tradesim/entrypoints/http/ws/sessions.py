"""Sockets end with their login: when the access token they authenticated with expires, or when its
login is revoked (logout, reuse of a rotated refresh token) on any api process, with close code 4401.
A `/v5/private` socket ends alike when the API key it authenticated with is revoked on any api process
(Bybit ends a socket whose key is deleted; the client reconnects and its `op: auth` is refused)."""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools

import structlog

from tradesim.application.key_cache import revoked_key_name
from tradesim.entrypoints.http.ws.hub import UNAUTHENTICATED, Connection
from tradesim.ports.clock import Clock
from tradesim.ports.messaging import Subscription
from tradesim.ports.security import RevocationBus, TokenClaims

log = structlog.get_logger("tradesim.api")

#: How often expiries are looked at; a socket outlives its token by at most this long.
EXPIRY_CHECK_S = 1.0


class SocketSessions:
    def __init__(self, clock: Clock, revocations: RevocationBus) -> None:
        self._clock = clock
        self._revocations = revocations
        self._expiries: list[tuple[int, int, Connection]] = []
        #: What each socket authenticated with (a token family or an API key) by its revocation name.
        self._families: dict[str, set[Connection]] = {}
        self._family_of: dict[Connection, str] = {}
        self._order = itertools.count()

    def watch(self, conn: Connection, claims: TokenClaims) -> None:
        """End `conn` when `claims` expire or their family is revoked."""
        heapq.heappush(self._expiries, (claims.expires_at, next(self._order), conn))
        if claims.family_id:
            self._follow(conn, claims.family_id)

    def watch_key(self, conn: Connection, api_key: str) -> None:
        """End `conn` when the API key `api_key` is revoked. Call it before reading the key from the
        store: a revocation committed after that read is then told to a socket already watched."""
        self._follow(conn, revoked_key_name(api_key))

    def _follow(self, conn: Connection, name: str) -> None:
        self.forget(conn)
        self._families.setdefault(name, set()).add(conn)
        self._family_of[conn] = name

    def forget(self, conn: Connection) -> None:
        family = self._family_of.pop(conn, None)
        conns = self._families.get(family) if family is not None else None
        if conns is not None:
            conns.discard(conn)
            if not conns:
                del self._families[family]  # type: ignore[arg-type]

    def expire(self) -> None:
        """Close the sockets whose token has expired by now (closed ones leave the heap as they come up)."""
        now = self._clock.now_ms()
        while self._expiries and self._expiries[0][0] <= now:
            _, _, conn = heapq.heappop(self._expiries)
            if conn.close_code is None:
                conn.close(UNAUTHENTICATED, "access token expired; reconnect with a fresh one")

    def revoke(self, family_id: str) -> None:
        """`family_id`: a token family, or a key's `revoked_key_name`."""
        reason = "api key revoked" if family_id.startswith(revoked_key_name("")) else "session revoked; log in again"
        for conn in self._families.pop(family_id, set()):
            self._family_of.pop(conn, None)
            conn.close(UNAUTHENTICATED, reason)

    async def run(self) -> None:
        """Until cancelled: expiries every `EXPIRY_CHECK_S`, revocations as they are told."""
        subscription = self._revocations.subscribe()
        listener = asyncio.create_task(self._listen(subscription))
        try:
            while True:
                self.expire()
                await asyncio.sleep(EXPIRY_CHECK_S)
        finally:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener
            await subscription.aclose()

    async def _listen(self, subscription: Subscription[str]) -> None:
        async for family_id in subscription:
            self.revoke(family_id)
