"""Translation between frozen attrs records and table rows.

The domain's records know nothing of SQLAlchemy, and frozen slotted classes do not suit the
ORM's instrumentation, so the adapters speak Core and translate explicitly. A table whose
columns are named like the record's fields needs only a `RecordMap`; enums are stored by
value, decimals by the column type (`ExactDecimal`), everything else as is.
"""

from __future__ import annotations

import enum
import types
import typing
from collections.abc import Callable, Collection, Mapping
from typing import Any, Generic, TypeVar

import attrs

R = TypeVar("R")
Load = Callable[[Any], Any]


def _loader(hint: Any) -> Load | None:
    """How to turn a column value back into a field value of type `hint` (None: as it is)."""
    optional = False
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        optional = len(args) < len(typing.get_args(hint))
        hint = args[0] if len(args) == 1 else hint
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        enum_type = hint
        if optional:
            return lambda value: None if value is None else enum_type(value)
        return enum_type
    return None


def _dump(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


class RecordMap(Generic[R]):
    """Rows <-> records of `cls` over the fields not in `exclude` (those the caller handles itself)."""

    def __init__(self, cls: type[R], *, exclude: Collection[str] = ()) -> None:
        hints = typing.get_type_hints(cls)
        self._cls = cls
        self.fields = tuple(f.name for f in attrs.fields(cls) if f.name not in exclude)  # type: ignore[arg-type]
        loaders = {name: _loader(hints[name]) for name in self.fields}
        self._plain = tuple(name for name, load in loaders.items() if load is None)
        self._converted = tuple((name, load) for name, load in loaders.items() if load is not None)
        #: Only the enum fields need a look at their value; a row is written per order and fill.
        self._enums = frozenset(name for name, _ in self._converted)

    def to_row(self, record: R) -> dict[str, Any]:
        row = {name: getattr(record, name) for name in self.fields}
        for name in self._enums:
            row[name] = _dump(row[name])
        return row

    def from_row(self, row: Mapping[Any, Any], **extra: Any) -> R:
        values = {name: row[name] for name in self._plain}
        for name, load in self._converted:
            values[name] = load(row[name])
        values.update(extra)
        return self._cls(**values)
