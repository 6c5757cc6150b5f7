"""API keys: table `api_keys`. The secret is stored sealed (`SecretBox`), never in clear."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Boolean, Column, Index, Select, Table, Text, bindparam, select, update

from tradesim.adapters.sqlalchemy.mapping import RecordMap
from tradesim.adapters.sqlalchemy.metadata import metadata
from tradesim.adapters.sqlalchemy.transaction import Transaction
from tradesim.domain.api_keys import ApiKey
from tradesim.domain.errors import Conflict

api_keys = Table(
    "api_keys",
    metadata,
    Column("api_key_id", Text, primary_key=True),
    Column("api_key", Text, nullable=False, unique=True),
    Column("user_id", Text, nullable=False),
    Column("account_id", Text, nullable=False),
    Column("sealed_secret", Text, nullable=False),
    Column("created_time", BigInteger, nullable=False),
    Column("label", Text, nullable=False),
    Column("read_only", Boolean, nullable=False),
    Column("revoked_time", BigInteger, nullable=False),
    Index(None, "user_id"),
)

KEY = RecordMap(ApiKey)

_c = api_keys.c
_BY_ID = select(api_keys).where(_c.api_key_id == bindparam("id"))
_BY_USER = select(api_keys).where(_c.user_id == bindparam("user")).order_by(_c.created_time, _c.api_key_id)
#: The read by public key, built once per dialect (`Transaction.one_of` differs by dialect).
_by_key: dict[bool, Select[Any]] = {}
_REVOKE = (
    update(api_keys).where(_c.api_key_id == bindparam("id"), _c.revoked_time == 0).values(revoked_time=bindparam("at"))
)


class SqlApiKeyRepository:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def add(self, key: ApiKey) -> None:
        # ON CONFLICT DO NOTHING covers both unique keys (id and public key) alike.
        if not await self._tx.insert_new(api_keys, KEY.to_row(key), _c.api_key_id):
            raise Conflict(f"api key {key.api_key_id} exists already")

    async def get(self, api_key_id: str) -> ApiKey | None:
        row = (await self._tx.execute(_BY_ID, {"id": api_key_id})).mappings().first()
        return None if row is None else KEY.from_row(row)

    async def get_by_key(self, api_key: str) -> ApiKey | None:
        # Every /v5 request reads its key: on PostgreSQL straight through the driver.
        statement = _by_key.get(self._tx.is_postgres)
        if statement is None:
            statement = _by_key[self._tx.is_postgres] = select(api_keys).where(self._tx.one_of(_c.api_key))
        rows = await self._tx.execute_in(statement, [api_key])
        return KEY.from_row(rows[0]) if rows else None

    async def list_by_user(self, user_id: str) -> list[ApiKey]:
        rows = (await self._tx.execute(_BY_USER, {"user": user_id})).mappings().all()
        return [KEY.from_row(row) for row in rows]

    async def revoke(self, api_key_id: str, revoked_time: int) -> bool:
        revoked = await self._tx.execute(_REVOKE, {"id": api_key_id, "at": revoked_time})
        return bool(revoked.rowcount == 1)
