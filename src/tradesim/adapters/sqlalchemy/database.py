"""The engine for one database URL, with the timeouts and pool that make outages fail fast.

`Database(url)` builds nothing but the engine object (no connection is opened until a unit of
work needs one); `await database.dispose()` closes the pool. One per process.

PostgreSQL (asyncpg): connecting gives up after `connect_timeout`; the server cancels a
statement after `statement_timeout` and a lock wait after `lock_timeout`, and ends a session
left idle inside a transaction; the client gives up on a silent server a little after the
statement timeout. The pool hands out no connection the driver has seen closed (a restarted
server closes them all), replacing it with a fresh one; that check costs nothing, where
SQLAlchemy's `pool_pre_ping` costs three round trips per checkout (BEGIN, a ping, ROLLBACK on
asyncpg), more than the order entry's own statement. A connection that died unseen fails its
first statement, which SQLAlchemy reports as a disconnect: it then replaces every connection
of the pool made before. All of these surface as `DependencyUnavailable`.

SQLite (aiosqlite): write-ahead logging, so readers never wait for the writer; every
transaction starts with BEGIN IMMEDIATE, so writers queue for the file lock (up to
`sqlite_busy_timeout`) at the start of a transaction instead of failing half-way when a read
turns into a write. Never open a unit of work inside another on SQLite: the inner one waits
for the outer one's lock until the busy timeout. An in-memory SQLite URL shares one connection
between all units of work (SQLAlchemy's StaticPool), so their transactions would mix: use a
file, or the `memory://` store of the composition root.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import attrs
from sqlalchemy import event, exc
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from tradesim.adapters.sqlalchemy.kept_connection import KeptConnection

SUPPORTED = ("postgresql", "sqlite")


@attrs.frozen
class DatabaseConfig:
    """Timeouts in seconds (0 turns a server-side one off); pool sizes per process."""

    connect_timeout: float = 5.0
    statement_timeout: float = 30.0
    #: How long the client waits for any answer before it gives the server up (a network
    #: partition, a frozen server): a little longer than the server's own statement timeout.
    network_timeout: float | None = 35.0
    lock_timeout: float = 10.0
    idle_in_transaction_timeout: float = 60.0
    pool_size: int = 20
    max_overflow: int = 10
    pool_timeout: float = 10.0
    pool_recycle: int = 1800
    sqlite_busy_timeout: float = 15.0


def is_sql_url(url: str) -> bool:
    """True for the URLs this adapter serves (`postgresql+asyncpg://...`, `sqlite+aiosqlite:///...`)."""
    return url.split(":", 1)[0].split("+", 1)[0] in SUPPORTED


def redacted(url: str | URL) -> str:
    """The URL with its password hidden, for messages and logs."""
    return make_url(url).render_as_string(hide_password=True)


class Database:
    def __init__(self, url: str | URL, config: DatabaseConfig | None = None) -> None:
        self.url = make_url(url)
        self.config = config or DatabaseConfig()
        self.dialect = self.url.get_backend_name()
        if self.dialect not in SUPPORTED:
            raise ValueError(f"unsupported database URL {self.safe_url}: use postgresql+asyncpg or sqlite+aiosqlite")
        self.engine: AsyncEngine = _postgres_engine(self) if self.dialect == "postgresql" else _sqlite_engine(self)
        #: The same pool, its connections in the driver's autocommit: set as part of the checkout,
        #: where `connection.execution_options(...)` afterwards costs a greenlet switch of its
        #: own, and so does restoring it on check-in.
        self.autocommit_engine: AsyncEngine = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        #: First days (epoch ms) of the months whose `market_candles` partition is known to exist.
        self.candle_months: set[int] = set()
        self._kept: list[KeptConnection] = []

    @property
    def safe_url(self) -> str:
        """The URL with its password hidden, for messages."""
        return redacted(self.url)

    def keep(self) -> KeptConnection:
        """A holder of one connection kept checked out for a serial caller (`kept_connection.py`);
        closed by `dispose()`."""
        kept = KeptConnection(self)
        self._kept.append(kept)
        return kept

    async def dispose(self) -> None:
        for kept in self._kept:
            await kept.close()
        await self.engine.dispose()

    def __repr__(self) -> str:
        return f"Database({self.safe_url!r})"


def _postgres_engine(db: Database) -> AsyncEngine:
    c = db.config
    connect_args: dict[str, Any] = {
        "timeout": c.connect_timeout,
        "command_timeout": c.network_timeout,
        "server_settings": {
            "application_name": "tradesim",
            "statement_timeout": _ms(c.statement_timeout),
            "lock_timeout": _ms(c.lock_timeout),
            "idle_in_transaction_session_timeout": _ms(c.idle_in_transaction_timeout),
        },
    }
    engine = create_async_engine(
        db.url,
        connect_args=connect_args,
        pool_size=c.pool_size,
        max_overflow=c.max_overflow,
        pool_timeout=c.pool_timeout,
        pool_recycle=c.pool_recycle,
    )

    @event.listens_for(engine.sync_engine, "checkout")
    def _refuse_closed(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        if dbapi_connection.driver_connection.is_closed():
            # The pool discards it and checks out (or opens) another, up to three times.
            raise exc.DisconnectionError("the server closed this connection")

    return engine


def _ms(seconds: float) -> str:
    """PostgreSQL server settings take milliseconds."""
    return str(int(seconds * 1000))


def _sqlite_engine(db: Database) -> AsyncEngine:
    path = db.url.database
    if path and path != ":memory:" and not path.startswith("file:"):
        # Where it cannot be made, connecting fails later, as an outage the caller understands.
        with contextlib.suppress(OSError):
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(
        db.url,
        connect_args={"timeout": db.config.sqlite_busy_timeout},
        pool_timeout=db.config.pool_timeout,
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from sqlite3 (it would BEGIN only before DML, never
        # before SELECT or DDL) so that the BEGIN below covers everything.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine
