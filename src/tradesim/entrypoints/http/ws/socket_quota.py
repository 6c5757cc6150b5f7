"""How many sockets a user and a client address may hold open at once, counted across api processes
(through Redis when configured): each socket holds a place that it renews while open and lets go when it
closes; a process that dies leaves its places to lapse."""

from __future__ import annotations

import asyncio
import contextlib

import structlog

from tradesim.entrypoints.http.ws.hub import Connection
from tradesim.ports.clock import Clock
from tradesim.ports.errors import DependencyUnavailable
from tradesim.ports.limits import RateCounters

log = structlog.get_logger("tradesim.api")

#: Close code for a socket over its quota (as for a socket too slow to keep up: too much of this).
TOO_MANY = 4429
PLACE_TTL_MS = 120_000
RENEW_EVERY_S = 30.0


class SocketQuota:
    def __init__(self, counters: RateCounters, clock: Clock, *, per_user: int, per_address: int) -> None:
        self._counters = counters
        self._clock = clock
        self._per_user = per_user
        self._per_address = per_address
        self._held: dict[str, list[tuple[str, int]]] = {}

    async def admit_address(self, conn: Connection, address: str) -> str | None:
        """Hold a place for `conn` under its client address; why not when there is none (close it then,
        with `TOO_MANY`)."""
        return await self._admit(conn, f"ws:addr:{address}", self._per_address, "TRADESIM_MAX_WEBSOCKETS_PER_ADDRESS")

    async def admit_user(self, conn: Connection, user_id: str) -> str | None:
        return await self._admit(conn, f"ws:user:{user_id}", self._per_user, "TRADESIM_MAX_WEBSOCKETS_PER_USER")

    async def release(self, conn: Connection) -> None:
        for key, _ in self._held.pop(conn.conn_id, []):
            with contextlib.suppress(DependencyUnavailable):  # the place lapses by itself
                await self._counters.let_go(key, conn.conn_id)

    async def run(self) -> None:
        """Until cancelled: renew the places of this process's open sockets."""
        while True:
            await asyncio.sleep(RENEW_EVERY_S)
            now = self._clock.now_ms()
            for conn_id, places in list(self._held.items()):
                for key, limit in places:
                    with contextlib.suppress(DependencyUnavailable):
                        await self._counters.hold(key, conn_id, limit, PLACE_TTL_MS, now)

    async def _admit(self, conn: Connection, key: str, limit: int, setting: str) -> str | None:
        try:
            held = await self._counters.hold(key, conn.conn_id, limit, PLACE_TTL_MS, self._clock.now_ms())
        except DependencyUnavailable as error:
            # Sockets stay available while Redis is away; the quota applies again when it is back.
            log.warning("socket_quota_unchecked", error=error.message)
            return None
        if not held:
            return f"at most {limit} open sockets ({setting}); close one first"
        self._held.setdefault(conn.conn_id, []).append((key, limit))
        return None
