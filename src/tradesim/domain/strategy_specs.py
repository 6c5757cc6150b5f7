"""What a user may ask of a strategy: its timeframes and declared hyperparameters, as plain data.

The catalogue (adapters/jesse) reads these from the strategies' classes, which needs Jesse; the
api checks a run against them without it (workers publish the specs they loaded). The rule that
types and bounds a given hyperparameter lives here, once, for both.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import attrs

from tradesim.domain.errors import InvalidInput, NotFound

#: The timeframes a strategy may decide on (DESIGN §9), in Jesse's spelling, and their length.
TIMEFRAME_MS: dict[str, int] = {
    "1m": 60_000,
    "5m": 300_000,
    "15m": 900_000,
    "30m": 1_800_000,
    "1h": 3_600_000,
    "4h": 14_400_000,
    "1D": 86_400_000,
}


class BrokenStrategy(InvalidInput):
    """The strategy exists but its file did not load or failed validation."""

    code = "BROKEN_STRATEGY"


class UnknownTimeframe(InvalidInput):
    code = "UNKNOWN_TIMEFRAME"


class BadHyperparameter(InvalidInput):
    code = "BAD_HYPERPARAMETER"


@attrs.frozen(slots=True)
class Hyperparameter:
    name: str
    type: str  # int, float, bool or categorical
    min: Any = None
    max: Any = None
    default: Any = None
    options: tuple[Any, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "type": self.type, "default": self.default}
        if self.type == "categorical":
            out["options"] = list(self.options)
        else:
            out["min"], out["max"] = self.min, self.max
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Hyperparameter:
        return cls(
            name=str(data["name"]),
            type=str(data["type"]),
            min=data.get("min"),
            max=data.get("max"),
            default=data.get("default"),
            options=tuple(data.get("options", ())),
        )

    def convert(self, strategy: str, raw: Any) -> Any:
        """`raw` typed as declared; raises `BadHyperparameter` naming the parameter otherwise."""
        where = f"hyperparameter {self.name} of {strategy}"
        if self.type == "categorical":
            for option in self.options:
                if raw == option or str(raw) == str(option):
                    return option
            raise BadHyperparameter(f"{where} must be one of {', '.join(map(str, self.options))}; got {raw!r}")
        if self.type == "bool":
            text = str(raw).strip().lower()
            if isinstance(raw, bool) or text in ("true", "false", "1", "0"):
                return raw if isinstance(raw, bool) else text in ("true", "1")
            raise BadHyperparameter(f"{where} must be true or false; got {raw!r}")
        try:
            if isinstance(raw, bool):
                raise ValueError
            if self.type == "int":
                if isinstance(raw, float) and raw.is_integer():
                    raw = int(raw)
                value: int | float = int(raw) if isinstance(raw, int) else int(str(raw).strip())
            else:
                value = float(raw) if isinstance(raw, int | float) else float(str(raw).strip())
                if not math.isfinite(value):
                    raise ValueError
        except ValueError:
            kind = "an integer" if self.type == "int" else "a number"
            raise BadHyperparameter(f"{where} must be {kind}; got {raw!r}") from None
        if not self.min <= value <= self.max:
            raise BadHyperparameter(f"{where} must be between {self.min} and {self.max}; got {value}")
        return value


@attrs.frozen(slots=True)
class StrategySpec:
    """One catalogue entry as users see it (`GET /api/v1/strategies`)."""

    name: str
    source: str  # "builtin" or "dir"
    hyperparameters: tuple[Hyperparameter, ...] = ()
    timeframes: tuple[str, ...] = tuple(TIMEFRAME_MS)
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "source": self.source,
            "timeframes": list(self.timeframes),
            "hyperparameters": [hp.as_dict() for hp in self.hyperparameters],
        }
        if self.error is not None:
            out["error"] = self.error
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StrategySpec:
        return cls(
            name=str(data["name"]),
            source=str(data["source"]),
            hyperparameters=tuple(Hyperparameter.from_dict(hp) for hp in data.get("hyperparameters", ())),
            timeframes=tuple(data.get("timeframes", TIMEFRAME_MS)),
            error=data.get("error"),
        )

    def typed(self, given: Mapping[str, Any]) -> dict[str, Any]:
        """`given` checked against the declaration and converted to its types.

        Raises `BadHyperparameter` naming the parameter for an unknown name, a wrong type or a
        value outside ``[min, max]``.
        """
        declared = {hp.name: hp for hp in self.hyperparameters}
        out: dict[str, Any] = {}
        for key, raw in given.items():
            hp = declared.get(key)
            if hp is None:
                known = ", ".join(declared) or "none"
                raise BadHyperparameter(f"strategy {self.name} has no hyperparameter {key!r}; it has: {known}")
            out[key] = hp.convert(self.name, raw)
        return out


def find_spec(specs: Mapping[str, StrategySpec], name: str) -> StrategySpec:
    """Raises `NotFound` for an unknown name and `BrokenStrategy` for one that failed to load."""
    spec = specs.get(name)
    if spec is None:
        known = ", ".join(sorted(s.name for s in specs.values() if s.error is None)) or "none"
        raise NotFound(f"unknown strategy {name!r}; known: {known}")
    if spec.error is not None:
        raise BrokenStrategy(f"strategy {name} cannot run: {spec.error}")
    return spec


def check_timeframe(timeframe: str) -> int:
    """The timeframe's length in ms; raises `UnknownTimeframe`."""
    length = TIMEFRAME_MS.get(timeframe)
    if length is None:
        raise UnknownTimeframe(f"unknown timeframe {timeframe!r}; known: {', '.join(TIMEFRAME_MS)}")
    return length
