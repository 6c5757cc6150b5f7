"""A strategy's declared hyperparameters, and the check of the values a user gives for them.

The same rules serve the worker's catalogue (which reads the declarations from the loaded Jesse
class) and the api's (which reads them from the strategy's source, without importing Jesse).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from tradesim.domain.errors import InvalidInput

# One declaration type for the worker's catalogue, the api's and the runs' specs (merged branches).
from tradesim.domain.strategy_specs import Hyperparameter as Hyperparameter

#: Jesse's spellings of a hyperparameter's type (the type itself or its name) -> ours.
TYPES: dict[Any, str] = {int: "int", float: "float", bool: "bool", "int": "int", "float": "float", "bool": "bool"}
TYPES.update({"categorical": "categorical", str: "categorical", "str": "categorical"})


def declared(strategy: str, items: Any) -> Iterable[Hyperparameter]:
    """The hyperparameters of Jesse's `hyperparameters()` list; `TypeError` naming a malformed one."""
    for item in items:
        if not isinstance(item, Mapping) or "name" not in item:
            raise TypeError(f"a hyperparameter of {strategy} is not a dict with a name: {item!r}")
        kind = TYPES.get(item.get("type", "float"))
        if kind is None:
            raise TypeError(f"hyperparameter {item['name']} of {strategy} has unknown type {item.get('type')!r}")
        hp = Hyperparameter(
            name=str(item["name"]),
            type=kind,
            min=item.get("min"),
            max=item.get("max"),
            default=item.get("default"),
            options=tuple(item.get("options", ())),
        )
        if kind in ("int", "float") and (hp.min is None or hp.max is None or hp.min > hp.max):
            raise TypeError(f"hyperparameter {hp.name} of {strategy} needs min <= max")
        yield hp


def check_values(strategy: str, hyperparameters: Iterable[Hyperparameter], given: Mapping[str, Any]) -> dict[str, Any]:
    """`given` checked against the declaration and converted to its types.

    Raises `InvalidInput` naming the parameter for an unknown name, a value of the wrong type or
    one outside ``[min, max]``.
    """
    known = {hp.name: hp for hp in hyperparameters}
    out: dict[str, Any] = {}
    for key, raw in given.items():
        hp = known.get(key)
        if hp is None:
            names = ", ".join(known) or "none"
            raise InvalidInput(f"strategy {strategy} has no hyperparameter {key!r}; it has: {names}")
        out[key] = convert(strategy, hp, raw)
    return out


def convert(strategy: str, hp: Hyperparameter, raw: Any) -> Any:
    where = f"hyperparameter {hp.name} of {strategy}"
    if hp.type == "categorical":
        for option in hp.options:
            if raw == option or str(raw) == str(option):
                return option
        raise InvalidInput(f"{where} must be one of {', '.join(map(str, hp.options))}; got {raw!r}")
    if hp.type == "bool":
        text = str(raw).strip().lower()
        if isinstance(raw, bool) or text in ("true", "false", "1", "0"):
            return raw if isinstance(raw, bool) else text in ("true", "1")
        raise InvalidInput(f"{where} must be true or false; got {raw!r}")
    try:
        if isinstance(raw, bool):
            raise ValueError
        if hp.type == "int":
            value: int | float = int(raw) if isinstance(raw, int) else int(str(raw).strip())
        else:
            value = float(raw) if isinstance(raw, int | float) else float(str(raw).strip())
            if not math.isfinite(value):
                raise ValueError
    except ValueError:
        raise InvalidInput(f"{where} must be {'an integer' if hp.type == 'int' else 'a number'}; got {raw!r}") from None
    if not hp.min <= value <= hp.max:
        raise InvalidInput(f"{where} must be between {hp.min} and {hp.max}; got {value}")
    return value
