"""argon2id password hashes, computed off the event loop."""

from __future__ import annotations

import argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from tradesim.adapters.security.pool import BoundedPool


class Argon2PasswordHasher:
    """argon2-cffi's RFC 9106 low-memory profile by default; tests pass cheaper parameters.

    A hash takes tens of milliseconds of CPU: it runs on `threads` threads of its own (argon2 lets go of
    the interpreter meanwhile, so the loop keeps serving), with at most `queue` more waiting; beyond
    that, `Overloaded` (503)."""

    def __init__(
        self,
        *,
        time_cost: int = 3,
        memory_cost: int = 65_536,
        parallelism: int = 4,
        threads: int = 2,
        queue: int = 64,
    ) -> None:
        self._hasher = argon2.PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)
        self.pool = BoundedPool(threads, queue, name="argon2")

    async def hash(self, password: str) -> str:
        return await self.pool.run(self._hasher.hash, password)

    async def verify(self, password_hash: str, password: str) -> bool:
        try:
            return await self.pool.run(self._hasher.verify, password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
