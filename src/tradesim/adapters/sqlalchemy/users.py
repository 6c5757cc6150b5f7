"""Users and their refresh tokens: tables `users`, `refresh_tokens`."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Index, Table, Text, bindparam, not_, select, update

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

_USER_BY_ID = select(users).where(users.c.user_id == bindparam("user_id"))
_USER_BY_EMAIL = select(users).where(users.c.email == bindparam("email"))
_ROTATE = (
    update(refresh_tokens)
    .where(
        refresh_tokens.c.token_id == bindparam("key"),
        refresh_tokens.c.revoked.is_(False),
        refresh_tokens.c.replaced_by == "",
    )
    .values(replaced_by=bindparam("successor"))
)
_TOKEN_BY_ID = select(refresh_tokens).where(refresh_tokens.c.token_id == bindparam("token_id"))
_REVOKE_FAMILY = (
    update(refresh_tokens)
    .where(refresh_tokens.c.family_id == bindparam("family"), not_(refresh_tokens.c.revoked))
    .values(revoked=True)
    .returning(refresh_tokens.c.token_id)
)


class SqlUserRepository:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def add(self, user: User) -> None:
        if await self._tx.insert_new(users, USER.to_row(user), users.c.user_id):
            return
        if await self.get_by_email(user.email) is not None:
            raise DuplicateEmail(f"an account with email {user.email} already exists")
        raise Conflict(f"user {user.user_id} exists already")

    async def get(self, user_id: str) -> User | None:
        row = (await self._tx.execute(_USER_BY_ID, {"user_id": user_id})).mappings().first()
        return None if row is None else USER.from_row(row)

    async def get_by_email(self, email: str) -> User | None:
        row = (await self._tx.execute(_USER_BY_EMAIL, {"email": email.lower()})).mappings().first()
        return None if row is None else USER.from_row(row)


class SqlRefreshTokenRepository:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def add(self, token: RefreshToken) -> None:
        await self._tx.insert_once(refresh_tokens, TOKEN.to_row(token), refresh_tokens.c.token_id, "refresh token")

    async def get(self, token_id: str) -> RefreshToken | None:
        row = (await self._tx.execute(_TOKEN_BY_ID, {"token_id": token_id})).mappings().first()
        return None if row is None else TOKEN.from_row(row)

    async def save(self, token: RefreshToken) -> None:
        await self._tx.upsert(refresh_tokens, TOKEN.to_row(token))

    async def rotate(self, token_id: str, successor: RefreshToken) -> bool:
        # The conditional UPDATE takes the row lock: a concurrent rotation of the same token waits,
        # then finds it replaced and changes nothing.
        replaced = await self._tx.execute(_ROTATE, {"key": token_id, "successor": successor.token_id})
        if replaced.rowcount != 1:
            return False
        await self.add(successor)
        return True

    async def revoke_family(self, family_id: str) -> int:
        revoked = await self._tx.execute(_REVOKE_FAMILY, {"family": family_id})
        return len(revoked.all())
