"""Bar Replay sessions: table `replay_sessions`.

The lease columns (`owner`, `lease_until`) change only through `claim` and `release`, each a
single conditional UPDATE, so two runners can never both believe they hold a session.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Table, Text, bindparam, select, update

from tradesim.adapters.sqlalchemy.mapping import RecordMap
from tradesim.adapters.sqlalchemy.metadata import metadata
from tradesim.adapters.sqlalchemy.transaction import Transaction
from tradesim.adapters.sqlalchemy.types import ExactDecimal
from tradesim.domain.replay_session import ReplaySession, ReplayState

replay_sessions = Table(
    "replay_sessions",
    metadata,
    Column("replay_id", Text, primary_key=True),
    Column("user_id", Text, nullable=False),
    Column("account_id", Text, nullable=False, unique=True),
    Column("symbol", Text, nullable=False),
    Column("category", Text, nullable=False),
    Column("start_time", BigInteger, nullable=False),
    Column("cursor", BigInteger, nullable=False),
    Column("clock", BigInteger, nullable=False),
    Column("last_bar_time", BigInteger, nullable=True),
    Column("speed", ExactDecimal, nullable=False),
    Column("state", Text, nullable=False),
    Column("bars_played", BigInteger, nullable=False),
    Column("id_seq", BigInteger, nullable=False),
    Column("created_time", BigInteger, nullable=False),
    Column("updated_time", BigInteger, nullable=False),
    Column("owner", Text, nullable=False, server_default=""),
    Column("lease_until", BigInteger, nullable=False, server_default="0"),
    Index(None, "user_id", "created_time"),
    Index(None, "state", "lease_until"),
)

SESSION = RecordMap(ReplaySession)
_LEASE = ("owner", "lease_until")
_r = replay_sessions.c
_BY_ID = select(replay_sessions).where(_r.replay_id == bindparam("replay_id"))
_BY_ACCOUNT = select(replay_sessions).where(_r.account_id == bindparam("account_id"))
# SET comes from the parameters given (every column but the key and the lease).
_SAVE = update(replay_sessions).where(_r.replay_id == bindparam("key"))
_CLAIM = (
    update(replay_sessions)
    .where(
        _r.replay_id == bindparam("key"),
        (_r.owner == bindparam("claimant")) | (_r.lease_until <= bindparam("now")),
    )
    .values(owner=bindparam("claimant"), lease_until=bindparam("until"))
)
_RELEASE = (
    update(replay_sessions)
    .where(_r.replay_id == bindparam("key"), _r.owner == bindparam("holder"))
    .values(owner="", lease_until=0)
)


class SqlReplayRepository:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def add(self, session: ReplaySession) -> None:
        await self._tx.insert_once(replay_sessions, SESSION.to_row(session), _r.replay_id, "replay")

    async def get(self, replay_id: str) -> ReplaySession | None:
        row = (await self._tx.execute(_BY_ID, {"replay_id": replay_id})).mappings().first()
        return None if row is None else SESSION.from_row(row)

    async def get_by_account(self, account_id: str) -> ReplaySession | None:
        row = (await self._tx.execute(_BY_ACCOUNT, {"account_id": account_id})).mappings().first()
        return None if row is None else SESSION.from_row(row)

    async def save(self, session: ReplaySession) -> None:
        row = {k: v for k, v in SESSION.to_row(session).items() if k not in _LEASE and k != "replay_id"}
        result = await self._tx.execute(_SAVE, {**row, "key": session.replay_id})
        if result.rowcount == 0:
            await self.add(session)

    async def list_by_user(self, user_id: str, *, limit: int = 100) -> list[ReplaySession]:
        query = (
            select(replay_sessions)
            .where(_r.user_id == user_id)
            .order_by(_r.created_time.desc(), _r.replay_id.desc())
            .limit(limit)
        )
        return [SESSION.from_row(row) for row in (await self._tx.execute(query)).mappings()]

    async def list_unowned(self, now_ms: int, *, limit: int = 100) -> list[ReplaySession]:
        query = (
            select(replay_sessions)
            .where(_r.state != ReplayState.FINISHED.value, _r.lease_until <= now_ms)
            .order_by(_r.updated_time, _r.replay_id)
            .limit(limit)
        )
        return [SESSION.from_row(row) for row in (await self._tx.execute(query)).mappings()]

    async def claim(self, replay_id: str, owner: str, now_ms: int, until_ms: int) -> bool:
        params = {"key": replay_id, "claimant": owner, "now": now_ms, "until": until_ms}
        result = await self._tx.execute(_CLAIM, params)
        return bool(result.rowcount)

    async def release(self, replay_id: str, owner: str) -> None:
        await self._tx.execute(_RELEASE, {"key": replay_id, "holder": owner})
