"""SQLAlchemy statements compiled once for PostgreSQL and run on the asyncpg connection itself.

SQLAlchemy's asyncio layer costs about 150 µs of CPU per statement over asyncpg's own (a
31-column INSERT: some 220 µs against 70 µs, measured here), more than the database's work on
the statements the api and the workers run for every order. Those few statements are still
written as SQLAlchemy constructs; they are compiled once, and the unit of work runs them on the
driver connection of its SQLAlchemy connection, inside the same transaction (see
`unit_of_work.py`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs
from sqlalchemy import Column, Table
from sqlalchemy.engine import Dialect


@attrs.frozen
class DriverStatement:
    """A statement's SQL with `$n` placeholders and the parameter names in their order."""

    sql: str
    names: tuple[str, ...]

    def arguments(self, parameters: Mapping[str, Any]) -> tuple[Any, ...]:
        values = tuple(parameters[name] for name in self.names)
        refuse_floats(values)
        return values


def refuse_floats(values: Iterable[Any]) -> None:
    """What `ExactDecimal` refuses on SQLAlchemy's path: floats never reach money columns."""
    for value in values:
        if type(value) is float:
            raise TypeError(f"a float ({value!r}) is not a valid value here; use Decimal")


def compile_for_driver(statement: Any, dialect: Dialect) -> DriverStatement:
    """Raises ValueError for a statement whose SQL depends on its parameters (expanding IN,
    literal binds) or that relies on Python-side column defaults: SQLAlchemy must run those."""
    compiled = statement.compile(dialect=dialect)
    if compiled.post_compile_params or compiled.literal_execute_params or compiled.insert_prefetch:
        raise ValueError(f"statement cannot run as driver SQL: {compiled.string[:80]}")
    return DriverStatement(compiled.string, tuple(compiled.positiontup or ()))


def insert_new_from_rows(
    table: Table, returning: Column[Any], dialect: Dialect, *, parameter: int = 1
) -> DriverStatement:
    """INSERT of many rows (`insert_from_rows`), skipping rows whose key exists, returning the
    `returning` value of those inserted; a key repeated within the rows is inserted once."""
    quote = dialect.identifier_preparer.quote
    return insert_from_rows(table, dialect, f"DO NOTHING RETURNING {quote(returning.name)}", parameter=parameter)


def upsert_from_rows(
    table: Table, dialect: Dialect, set_: Mapping[str, str] | None = None, *, parameter: int = 1
) -> DriverStatement:
    """INSERT of many rows (`insert_from_rows`), replacing the other columns of a row whose
    primary key exists. With `set_`, each column it names is set to its SQL expression instead
    (`{table}` and `excluded` name the stored and the new row), and the primary key and those
    columns are returned, as stored. The rows must have distinct keys (a statement may not
    change a row twice), and their locks are taken in the order of the rows."""
    quote = dialect.identifier_preparer.quote
    keys = [c.name for c in table.primary_key.columns]
    assigned = set_ or {c.name: f"excluded.{quote(c.name)}" for c in table.columns if c.name not in keys}
    assignments = ", ".join(f"{quote(name)} = {sql.format(table=quote(table.name))}" for name, sql in assigned.items())
    conflict = f"({', '.join(quote(k) for k in keys)}) DO UPDATE SET {assignments}"
    if set_:
        conflict += f" RETURNING {', '.join(quote(name) for name in [*keys, *(n for n in set_ if n not in keys)])}"
    return insert_from_rows(table, dialect, conflict, parameter=parameter)


def insert_from_rows(table: Table, dialect: Dialect, on_conflict: str, *, parameter: int = 1) -> DriverStatement:
    """INSERT of many rows sent as one parameter, `$parameter`: an array of the table's row type
    (`rows_argument`), unnested. The SQL is the same for any number of rows, so the server's
    prepared statement is reused; and the driver encodes one array, where one array per column
    cost it 15,000 instructions per array (callgrind here: a two-row INSERT of an order, 31
    columns, took 968,000 instructions as arrays and 558,000 as one array of rows).
    `on_conflict` follows ON CONFLICT."""
    quote = dialect.identifier_preparer.quote
    columns = ", ".join(quote(c.name) for c in table.columns)
    sql = (
        f"INSERT INTO {quote(table.name)} ({columns}) "
        f"SELECT {columns} FROM unnest(${parameter}::{quote(table.name)}[]) ON CONFLICT {on_conflict}"
    )
    return DriverStatement(sql, ("rows",))


def rows_argument(rows: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """`rows` as the argument of `insert_from_rows`: the driver fills each row of the table's
    type by column name. Floats are refused, as `DriverStatement.arguments` refuses them."""
    for row in rows:
        refuse_floats(row.values())
    return list(rows)
