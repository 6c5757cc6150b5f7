"""Users and their refresh tokens: tables `users`, `refresh_tokens`."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Index, Table, Text, not_, select, update

from tradesim.adapters.sqlalchemy.mapping import RecordMap
from tradesim.adapters.sqlalchemy.metadata import metadata
from tradesim.adapters.sqlalchemy.transaction import Transaction
from tradesim.domain.errors import Conflict
from tradesim.domain.users import RefreshToken, User
from tradesim.ports.errors import DuplicateEmail

users = Table(
    "users",
    metadata,
    Column("user_id", Text, primary_key=True),
    # Stored lower-cased (the domain does it), so a plain unique index makes email case-insensitive.
    Column("email", Text, nullable=False, unique=True),
    Column("password_hash", Text, nullable=False),
    Column("created_time", BigInteger, nullable=False),
)

refresh_tokens = Table(
    "refresh_tokens",
    metadata,
    Column("token_id", Text, primary_key=True),
    Column("user_id", Text, nullable=False),
    Column("family_id", Text, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("created_time", BigInteger, nullable=False),
    Column("revoked", Boolean, nullable=False),
    Column("replaced_by", Text, nullable=False),
    Index(None, "family_id"),
)

USER = RecordMap(User)
TOKEN = RecordMap(RefreshToken)


class SqlUserRepository:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def add(self, user: User) -> None:
        # ON CONFLICT DO NOTHING instead of catching the violation: on PostgreSQL a failed
        # statement would poison the whole transaction. A concurrent insert of the same email
        # waits for the other transaction, then finds the conflict.
        inserted = await self._tx.execute(
            self._tx.insert(users).values(USER.to_row(user)).on_conflict_do_nothing().returning(users.c.user_id)
        )
        if inserted.first() is not None:
            return
        if await self.get_by_email(user.email) is not None:
            raise DuplicateEmail(f"an account with email {user.email} already exists")
        raise Conflict(f"user {user.user_id} exists already")

    async def get(self, user_id: str) -> User | None:
        row = (await self._tx.execute(select(users).where(users.c.user_id == user_id))).mappings().first()
        return None if row is None else USER.from_row(row)

    async def get_by_email(self, email: str) -> User | None:
        row = (await self._tx.execute(select(users).where(users.c.email == email.lower()))).mappings().first()
        return None if row is None else USER.from_row(row)


class SqlRefreshTokenRepository:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def add(self, token: RefreshToken) -> None:
        await self._tx.execute(refresh_tokens.insert().values(TOKEN.to_row(token)))

    async def get(self, token_id: str) -> RefreshToken | None:
        query = select(refresh_tokens).where(refresh_tokens.c.token_id == token_id)
        row = (await self._tx.execute(query)).mappings().first()
        return None if row is None else TOKEN.from_row(row)

    async def save(self, token: RefreshToken) -> None:
        await self._tx.upsert(refresh_tokens, TOKEN.to_row(token))

    async def revoke_family(self, family_id: str) -> int:
        revoked = await self._tx.execute(
            update(refresh_tokens)
            .where(refresh_tokens.c.family_id == family_id, not_(refresh_tokens.c.revoked))
            .values(revoked=True)
            .returning(refresh_tokens.c.token_id)
        )
        return len(revoked.all())
