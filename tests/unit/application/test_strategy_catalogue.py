"""The api's jesse-free catalogue reads the same declarations the worker's catalogue loads."""

from __future__ import annotations

from pathlib import Path

import pytest

from tradesim.application.strategy_catalogue import SourceStrategyCatalogue, UnusableStrategy
from tradesim.domain.errors import InvalidInput, NotFound

STRATEGY = """
from jesse.strategies import Strategy

class {name}(Strategy):
    def hyperparameters(self):
        return {declaration}

    def should_long(self):
        return False

    def go_long(self):
        pass
"""


def write(folder: Path, name: str, declaration: str) -> None:
    (folder / name).mkdir(parents=True)
    (folder / name / "__init__.py").write_text(STRATEGY.format(name=name, declaration=declaration))


def test_it_agrees_with_the_workers_catalogue_on_every_builtin_strategy() -> None:
    jesse_catalogue = pytest.importorskip("tradesim.adapters.jesse.catalogue")
    loaded = {i.name: i.hyperparameters for i in jesse_catalogue.StrategyCatalogue().list()}
    read = {m.name: m.hyperparameters for m in SourceStrategyCatalogue().list()}
    assert read == loaded


def test_a_folder_strategy_is_read_and_its_values_checked(tmp_path: Path) -> None:
    write(
        tmp_path,
        "Mine",
        '[{"name": "n", "type": int, "min": -5, "max": 5, "default": 0}, '
        '{"name": "mode", "type": "categorical", "options": ["a", "b"], "default": "a"}]',
    )
    catalogue = SourceStrategyCatalogue([tmp_path])
    assert catalogue.get("Mine").source == "dir"
    assert catalogue.hyperparameters("Mine", {"n": "-3", "mode": "b"}) == {"n": -3, "mode": "b"}
    with pytest.raises(InvalidInput, match="n of Mine must be between -5 and 5"):
        catalogue.hyperparameters("Mine", {"n": 6})
    with pytest.raises(NotFound, match="unknown strategy 'Other'"):
        catalogue.get("Other")


def test_a_declaration_that_is_not_a_literal_is_listed_with_its_error_and_cannot_be_deployed(tmp_path: Path) -> None:
    write(tmp_path, "Clever", "[{'name': 'n', 'type': int, 'min': 1, 'max': compute(), 'default': 1}]")
    catalogue = SourceStrategyCatalogue([tmp_path])
    assert "compute()" in (next(m for m in catalogue.list() if m.name == "Clever").error or "")
    with pytest.raises(UnusableStrategy, match="Clever cannot run"):
        catalogue.get("Clever")
