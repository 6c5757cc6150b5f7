"""Which driver errors mean "the database is unreachable or timed out", and their translation.

Callers must never see a raw driver error for an outage: they get `DependencyUnavailable`
(retry later). Everything else (a bug, a broken constraint the adapter did not expect) keeps
its own type.
"""

from __future__ import annotations

from sqlalchemy import exc as sa_exc

from tradesim.ports.errors import DependencyUnavailable

#: PostgreSQL SQLSTATEs (besides class 08, connection exceptions) after which a retry may succeed
#: and the transaction wrote nothing: statement or lock timeout, the server shutting down or not
#: ready, too many connections or out of resources, and the two ways the server aborts a
#: transaction to keep concurrent ones consistent (serialization failure, deadlock).
_PG_RETRYABLE = {"57014", "55P03", "57P01", "57P02", "57P03", "53000", "53100", "53200", "53300", "53400"}
_PG_ABORTED_FOR_CONCURRENCY = {"40001", "40P01"}

#: sqlite3 reports every kind of trouble as OperationalError; these messages mean the file is
#: busy past the busy timeout or cannot be reached, not that the SQL is wrong.
_SQLITE_UNAVAILABLE = ("database is locked", "database table is locked", "unable to open", "disk i/o", "is full")


def _from_asyncpg(error: BaseException) -> bool:
    # The statements run on the driver directly (`driver_sql.py`) raise asyncpg's own errors,
    # not SQLAlchemy's wrappers; asyncpg is only imported where PostgreSQL is used.
    return type(error).__module__.startswith("asyncpg")


def _driver_connection_lost(error: BaseException) -> bool:
    """asyncpg's word that the connection is gone: a connection-class SQLSTATE, the server going
    away, or the InterfaceError of a call on a closed connection (its other InterfaceErrors mean
    a misuse, which is a bug)."""
    sqlstate = _sqlstate(error)
    if sqlstate is not None:
        return _sqlstate_lost(sqlstate)
    message = str(error)
    return "connection is closed" in message or "connection was closed" in message


def _sqlstate(error: object) -> str | None:
    sqlstate = getattr(error, "sqlstate", None)
    return sqlstate if isinstance(sqlstate, str) else None


def _sqlstate_lost(sqlstate: str) -> bool:
    return sqlstate.startswith(("08", "57P"))


def _sqlstate_reason(sqlstate: str, error: object) -> str | None:
    """Why a PostgreSQL error with `sqlstate` means the database is unavailable, or None."""
    if sqlstate.startswith("08") or sqlstate in _PG_RETRYABLE:
        return f"the database is unavailable or timed out ({_first_line(error)}, SQLSTATE {sqlstate})"
    if sqlstate in _PG_ABORTED_FOR_CONCURRENCY:
        return f"the database aborted the transaction to resolve a conflict; retry ({_first_line(error)})"
    return None


def _driver_reason(error: BaseException) -> str | None:
    # A lost connection first: asyncpg has no `connection_invalidated` to say so for it.
    if _driver_connection_lost(error):
        return f"lost the connection to the database ({_first_line(error)})"
    sqlstate = _sqlstate(error)
    return None if sqlstate is None else _sqlstate_reason(sqlstate, error)


def unavailable_reason(error: BaseException) -> str | None:
    """A sentence saying why the database is unavailable, or None when `error` means something else."""
    if _from_asyncpg(error):
        return _driver_reason(error)
    if isinstance(error, sa_exc.TimeoutError):
        return f"no database connection became free in time ({error})"
    if isinstance(error, TimeoutError):
        return "the database did not answer in time"
    if isinstance(error, OSError):
        return f"cannot reach the database ({error})"
    if not isinstance(error, sa_exc.DBAPIError):
        return None
    if error.connection_invalidated or isinstance(error, sa_exc.InterfaceError):
        return f"lost the connection to the database ({_first_line(error.orig)})"
    sqlstate = _sqlstate(error.orig)
    if sqlstate is not None:
        return _sqlstate_reason(sqlstate, error.orig)
    if isinstance(error, sa_exc.OperationalError):
        message = str(error.orig).lower()
        if any(marker in message for marker in _SQLITE_UNAVAILABLE):
            return f"the database file is busy or unreachable ({_first_line(error.orig)})"
    return None


def connection_lost(error: BaseException) -> bool:
    """True when the connection itself can no longer be trusted (dropped, or silent past the
    client timeout), so it must be discarded rather than rolled back and reused. A lock or
    statement timeout, or a busy SQLite file, leaves a healthy connection behind."""
    if isinstance(error, OSError | TimeoutError):
        return True
    if _from_asyncpg(error):
        return _driver_connection_lost(error)
    if isinstance(error, sa_exc.DBAPIError):
        if error.connection_invalidated or isinstance(error, sa_exc.InterfaceError):
            return True
        sqlstate = _sqlstate(error.orig)
        return sqlstate is not None and _sqlstate_lost(sqlstate)
    return False


def translate(error: BaseException) -> BaseException:
    """`DependencyUnavailable` for an outage or timeout, else `error` itself."""
    reason = unavailable_reason(error)
    if reason is None:
        return error
    translated = DependencyUnavailable(reason)
    translated.__cause__ = error
    return translated


def _first_line(error: object) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
