"""Column types that keep the domain's numbers exact on every dialect."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from sqlalchemy import Numeric, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine


class ExactDecimal(TypeDecorator[Decimal]):
    """A `Decimal` stored without loss: `NUMERIC` (no precision limit) on PostgreSQL, the decimal's
    string on SQLite.

    SQLite has no decimal type; its NUMERIC affinity would turn `0.1` into a binary float. Storing
    the string keeps every digit (and the scale: "0.010" comes back as "0.010"). The price is that
    SQLite cannot compare or add these columns in SQL, so adapters never do (sums run in Python).
    Floats are refused: they are never exact and have no business reaching the database.
    """

    impl = Numeric
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(Text())
        return dialect.type_descriptor(Numeric(asdecimal=True))

    # The processors are written out (rather than process_bind_param/process_result_value) so
    # that PostgreSQL, whose driver already speaks Decimal, reads rows with no per-value call.
    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any]:
        to_text = dialect.name == "sqlite"

        def process(value: Any) -> Any:
            if value is None:
                return None
            if not isinstance(value, Decimal):
                raise TypeError(f"ExactDecimal columns take Decimal values, not {type(value).__name__} ({value!r})")
            return str(value) if to_text else value

        return process

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], Any] | None:
        if dialect.name != "sqlite":
            return None
        return lambda value: None if value is None else Decimal(value)

    @property
    def python_type(self) -> type[Decimal]:
        return Decimal
