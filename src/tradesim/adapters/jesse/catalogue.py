"""The strategies a worker can run: the ones tradesim ships, plus every folder under the configured directories.

A strategy is a folder in Jesse's own layout, ``NAME/__init__.py`` defining ``class NAME(Strategy)``.
Each one is loaded and checked when the catalogue is built: the class exists, is a Jesse
`Strategy` with `should_long` and `go_long`, can be built, and declares well-formed
hyperparameters. A folder that fails is listed with its error (and logged), never raised: one
broken file must not take a worker down.
"""

from __future__ import annotations

import importlib.util
import inspect
import logging
import sys
import zlib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
from jesse.strategies import Strategy

from tradesim.adapters.jesse.spec import TIMEFRAME_MS
from tradesim.domain.errors import InvalidInput, NotFound
from tradesim.domain.hyperparameters import Hyperparameter, check_values, declared

log = logging.getLogger(__name__)

BUILTIN_DIR = Path(__file__).resolve().parents[2] / "strategies"


class BrokenStrategy(InvalidInput):
    """The strategy exists but its file did not load or failed validation."""

    code = "BROKEN_STRATEGY"


@attrs.frozen(slots=True)
class StrategyInfo:
    name: str
    source: str  # "builtin" or "dir"
    path: str
    strategy: type[Any] | None = None
    hyperparameters: tuple[Hyperparameter, ...] = ()
    error: str | None = None
    timeframes: tuple[str, ...] = tuple(TIMEFRAME_MS)

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


class StrategyCatalogue:
    """Built once per process (loading imports the strategies' modules)."""

    def __init__(self, dirs: Sequence[Path] = (), *, builtin_dir: Path = BUILTIN_DIR) -> None:
        self._items: dict[str, StrategyInfo] = {}
        for info in _discover(builtin_dir, "builtin"):
            self._items[info.name] = info
        for folder in dirs:
            for info in _discover(folder, "dir"):
                if info.name in self._items:
                    first = self._items[info.name]
                    info = attrs.evolve(
                        info, strategy=None, error=f"the name {info.name} is already taken by {first.path}"
                    )
                    self._items[f"{info.name}@{info.path}"] = info
                    log.error("strategy %s at %s is not loaded: %s", info.name, info.path, info.error)
                    continue
                self._items[info.name] = info

    def list(self) -> list[StrategyInfo]:
        return sorted(self._items.values(), key=lambda i: (i.source != "builtin", i.name, i.path))

    def get(self, name: str) -> StrategyInfo:
        """Raises `NotFound` for an unknown name and `BrokenStrategy` for one that failed to load."""
        info = self._items.get(name)
        if info is None:
            known = ", ".join(i.name for i in self.list() if i.error is None) or "none"
            raise NotFound(f"unknown strategy {name!r}; known: {known}")
        if info.error is not None or info.strategy is None:
            raise BrokenStrategy(f"strategy {name} cannot run: {info.error}")
        return info

    def hyperparameters(self, name: str, given: Mapping[str, Any]) -> dict[str, Any]:
        """`given` checked against the strategy's declaration and converted to its types.

        Raises `InvalidInput` naming the parameter for an unknown name, a value of the wrong type
        or one outside ``[min, max]``.
        """
        return check_values(name, self.get(name).hyperparameters, given)


def _discover(folder: Path, source: str) -> Iterable[StrategyInfo]:
    if not folder.is_dir():
        if source == "dir":
            log.error("strategies folder %s does not exist", folder)
        return
    for child in sorted(folder.iterdir()):
        if child.is_dir() and (child / "__init__.py").is_file() and not child.name.startswith(("_", ".")):
            info = _load(child, source)
            if info.error is not None:
                log.error("strategy %s at %s is broken: %s", info.name, info.path, info.error)
            yield info


def _load(folder: Path, source: str) -> StrategyInfo:
    name = folder.name
    path = str(folder / "__init__.py")
    module_name = f"tradesim_strategies_{source}_{zlib.crc32(str(folder.resolve()).encode())}_{name}"
    try:
        spec = importlib.util.spec_from_file_location(module_name, path, submodule_search_locations=[str(folder)])
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot import {path}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
        cls = getattr(module, name, None)
        if not (inspect.isclass(cls) and issubclass(cls, Strategy)):
            raise TypeError(f"{path} defines no class {name}(Strategy)")
        missing = [m for m in ("should_long", "go_long") if getattr(cls, m) is getattr(Strategy, m)]
        if missing or inspect.isabstract(cls):
            raise TypeError(f"class {name} does not implement {', '.join(missing) or 'every abstract method'}")
        instance: Any = cls()
        hyperparameters = tuple(declared(name, instance.hyperparameters()))
    except Exception as error:  # anything a strategy file can do wrong is reported, never raised
        sys.modules.pop(module_name, None)
        return StrategyInfo(name, source, path, error=f"{type(error).__name__}: {error}")
    return StrategyInfo(name, source, path, strategy=cls, hyperparameters=hyperparameters)
