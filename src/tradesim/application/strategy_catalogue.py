"""What the api knows of the installed strategies, without importing Jesse (port and adapter).

The api process must not import Jesse (seconds and hundreds of MB), yet it must refuse an
unknown strategy or a hyperparameter out of range before a deployment is recorded. The
strategies declare their hyperparameters as a literal list in ``hyperparameters()``; reading that
list from the source (`ast`) gives the api the same declaration the worker's catalogue loads.
A strategy whose declaration is not a literal the reader understands is listed with its error and
cannot be deployed; the worker's catalogue stays the judge of whether it runs.
"""

from __future__ import annotations

import ast
import logging
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import attrs

import tradesim
from tradesim.domain.errors import InvalidInput, NotFound
from tradesim.domain.hyperparameters import Hyperparameter, check_values, declared
from tradesim.domain.strategy_deployment import TIMEFRAMES_MS

log = logging.getLogger(__name__)

BUILTIN_DIR = Path(tradesim.__file__).resolve().parent / "strategies"
#: The names a declaration may use for a type, as Jesse spells them.
_NAMES = {"int": int, "float": float, "bool": bool, "str": str, "True": True, "False": False, "None": None}


class UnusableStrategy(InvalidInput):
    """The strategy exists, but its declaration cannot be read or checked."""

    code = "BROKEN_STRATEGY"


@attrs.frozen(slots=True)
class StrategyMeta:
    name: str
    source: str  # "builtin" or "dir"
    hyperparameters: tuple[Hyperparameter, ...] = ()
    timeframes: tuple[str, ...] = tuple(TIMEFRAMES_MS)
    error: str | None = None


class StrategyCatalogueReader(Protocol):
    """The strategies users may choose, as metadata."""

    def list(self) -> list[StrategyMeta]: ...

    def get(self, name: str) -> StrategyMeta:
        """Raises `NotFound` for an unknown name, `UnusableStrategy` for one that cannot run."""
        ...

    def hyperparameters(self, name: str, given: Mapping[str, Any]) -> dict[str, Any]:
        """`given` checked and typed; `InvalidInput` naming the parameter otherwise."""
        ...


class SourceStrategyCatalogue:
    """`StrategyCatalogueReader` over the strategy folders' source files (built-in first)."""

    def __init__(self, dirs: Sequence[Path] = (), *, builtin_dir: Path = BUILTIN_DIR) -> None:
        self._items: dict[str, StrategyMeta] = {}
        for folder, source in [(builtin_dir, "builtin"), *((d, "dir") for d in dirs)]:
            for meta in _discover(folder, source):
                self._items.setdefault(meta.name, meta)

    def list(self) -> list[StrategyMeta]:
        return sorted(self._items.values(), key=lambda m: (m.source != "builtin", m.name))

    def get(self, name: str) -> StrategyMeta:
        meta = self._items.get(name)
        if meta is None:
            known = ", ".join(m.name for m in self.list() if m.error is None) or "none"
            raise NotFound(f"unknown strategy {name!r}; known: {known}")
        if meta.error is not None:
            raise UnusableStrategy(f"strategy {name} cannot run: {meta.error}")
        return meta

    def hyperparameters(self, name: str, given: Mapping[str, Any]) -> dict[str, Any]:
        return check_values(name, self.get(name).hyperparameters, given)


def _discover(folder: Path, source: str) -> Iterable[StrategyMeta]:
    if not folder.is_dir():
        return
    for child in sorted(folder.iterdir()):
        init = child / "__init__.py"
        if child.is_dir() and init.is_file() and not child.name.startswith(("_", ".")):
            try:
                hps = tuple(declared(child.name, _declaration(init, child.name)))
            except Exception as error:  # anything a strategy file can do wrong is reported, never raised
                log.error("strategy %s at %s cannot be read: %s", child.name, init, error)
                yield StrategyMeta(child.name, source, error=f"{type(error).__name__}: {error}")
                continue
            yield StrategyMeta(child.name, source, hyperparameters=hps)


def _declaration(path: Path, name: str) -> list[Any]:
    """The literal list `hyperparameters()` of class `name` returns (none declared: empty)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    cls = next((n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == name), None)
    if cls is None:
        raise TypeError(f"{path} defines no class {name}")
    method = next((n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == "hyperparameters"), None)
    if method is None:
        return []
    returned = [n for n in ast.walk(method) if isinstance(n, ast.Return)]
    if len(returned) != 1 or returned[0].value is None:
        raise TypeError(f"{name}.hyperparameters must return one literal list")
    value = _literal(returned[0].value)
    if not isinstance(value, list | tuple):
        raise TypeError(f"{name}.hyperparameters must return a list")
    return list(value)


def _literal(node: ast.AST) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name) and node.id in _NAMES:
        return _NAMES[node.id]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        operand = _literal(node.operand)
        if isinstance(operand, int | float) and not isinstance(operand, bool):
            return -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.List | ast.Tuple):
        return [_literal(item) for item in node.elts]
    if isinstance(node, ast.Dict) and all(key is not None for key in node.keys):
        return {_literal(k): _literal(v) for k, v in zip(node.keys, node.values, strict=True)}  # type: ignore[arg-type]
    raise TypeError(f"not a literal: {ast.unparse(node)}")
