"""The catalogue: built-ins, operator folders, broken files reported by name, hyperparameters checked."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tradesim.adapters.jesse.catalogue import BrokenStrategy, StrategyCatalogue
from tradesim.domain.errors import InvalidInput, NotFound

GOOD = """
from jesse.strategies import Strategy

class Breaker(Strategy):
    def hyperparameters(self):
        return [
            {"name": "period", "type": int, "min": 2, "max": 50, "default": 10},
            {"name": "mode", "type": "categorical", "options": ["fast", "slow"], "default": "fast"},
            {"name": "on", "type": bool, "default": True},
        ]

    def should_long(self):
        return False

    def go_long(self):
        pass
"""


def _folder(root: Path, name: str, text: str) -> None:
    (root / name).mkdir()
    (root / name / "__init__.py").write_text(text)


@pytest.fixture
def operator_dir(tmp_path: Path) -> Path:
    _folder(tmp_path, "Breaker", GOOD)
    _folder(tmp_path, "Syntax", "this is not python(\n")
    _folder(tmp_path, "Misnamed", "from jesse.strategies import Strategy\nclass Other(Strategy):\n    pass\n")
    _folder(tmp_path, "NoRules", "from jesse.strategies import Strategy\nclass NoRules(Strategy):\n    pass\n")
    _folder(tmp_path, "SmaCross", GOOD.replace("class Breaker", "class SmaCross"))
    return tmp_path


def test_the_builtins_are_listed_with_their_hyperparameters() -> None:
    listed = {i.name: i.as_dict() for i in StrategyCatalogue().list()}
    assert {"SmaCross", "DonchianBreakout", "RsiMeanReversion"} <= set(listed)
    sma = listed["SmaCross"]
    assert sma["source"] == "builtin"
    assert "1h" in sma["timeframes"]
    assert {hp["name"] for hp in sma["hyperparameters"]} >= {"fast", "slow"}
    assert all({"name", "type", "min", "max", "default"} <= set(hp) for hp in sma["hyperparameters"])


def test_broken_strategies_are_listed_by_name_with_the_reason_and_logged(
    operator_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        catalogue = StrategyCatalogue([operator_dir])
    listed = {(i.name, i.source): i for i in catalogue.list()}
    assert listed[("Breaker", "dir")].error is None
    assert "SyntaxError" in (listed[("Syntax", "dir")].error or "")
    assert "defines no class Misnamed(Strategy)" in (listed[("Misnamed", "dir")].error or "")
    assert "does not implement should_long, go_long" in (listed[("NoRules", "dir")].error or "")
    assert "already taken" in (listed[("SmaCross", "dir")].error or "")
    assert listed[("SmaCross", "builtin")].error is None
    for name in ("Syntax", "Misnamed", "NoRules"):
        assert name in caplog.text
    with pytest.raises(BrokenStrategy, match="strategy Syntax cannot run: SyntaxError"):
        catalogue.get("Syntax")
    with pytest.raises(NotFound, match=r"unknown strategy 'Nope'; known: .*Breaker"):
        catalogue.get("Nope")


def test_hyperparameters_are_typed_and_checked(operator_dir: Path) -> None:
    catalogue = StrategyCatalogue([operator_dir])
    assert catalogue.hyperparameters("Breaker", {"period": "12", "mode": "slow", "on": "false"}) == {
        "period": 12,
        "mode": "slow",
        "on": False,
    }
    assert catalogue.hyperparameters("SmaCross", {"stop_percent": 1.5}) == {"stop_percent": 1.5}
    bad = [
        ({"period": "1"}, "hyperparameter period of Breaker must be between 2 and 50; got 1"),
        ({"period": "ten"}, "hyperparameter period of Breaker must be an integer; got 'ten'"),
        ({"period": 2.5}, "must be an integer"),
        ({"mode": "medium"}, "must be one of fast, slow"),
        ({"size": "1"}, "Breaker has no hyperparameter 'size'; it has: period, mode, on"),
    ]
    for given, message in bad:
        with pytest.raises(InvalidInput, match=message):
            catalogue.hyperparameters("Breaker", given)
