"""API keys over `Tables`."""

from __future__ import annotations

import attrs

from tradesim.adapters.memory.repositories import _Repo
from tradesim.adapters.memory.tables import Tables
from tradesim.domain.api_keys import ApiKey
from tradesim.domain.errors import Conflict


class MemoryApiKeyRepository(_Repo):
    async def add(self, key: ApiKey) -> None:
        def op(t: Tables) -> None:
            if key.api_key_id in t.api_keys or any(k.api_key == key.api_key for k in t.api_keys.values()):
                raise Conflict(f"api key {key.api_key_id} exists already")
            t.api_keys[key.api_key_id] = key

        self._write(op)

    async def get(self, api_key_id: str) -> ApiKey | None:
        return self._work.api_keys.get(api_key_id)

    async def get_by_key(self, api_key: str) -> ApiKey | None:
        return next((k for k in self._work.api_keys.values() if k.api_key == api_key), None)

    async def list_by_user(self, user_id: str) -> list[ApiKey]:
        mine = (k for k in self._work.api_keys.values() if k.user_id == user_id)
        return sorted(mine, key=lambda k: (k.created_time, k.api_key_id))

    async def revoke(self, api_key_id: str, revoked_time: int) -> bool:
        def live(t: Tables) -> bool:
            key = t.api_keys.get(api_key_id)
            return key is not None and not key.revoked

        if not live(self._work):
            return False

        def op(t: Tables) -> None:
            if live(t):  # revoked meanwhile by another transaction: the first time stands
                t.api_keys[api_key_id] = attrs.evolve(t.api_keys[api_key_id], revoked_time=revoked_time)

        self._write(op)
        return True
