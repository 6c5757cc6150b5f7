"""The strategy run's record, its state machine, and the hyperparameter rule the api and the workers share."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tradesim.domain.errors import InvalidInput
from tradesim.domain.strategy_runs import (
    TERMINAL,
    TRANSITIONS,
    InvalidRunTransition,
    RunNotActive,
    RunStatus,
    StrategyRun,
)
from tradesim.domain.strategy_specs import (
    BadHyperparameter,
    Hyperparameter,
    StrategySpec,
    UnknownTimeframe,
    check_timeframe,
)

T0 = 1_700_000_000_000


def queued(**changes: object) -> StrategyRun:
    fields: dict[str, object] = {
        "run_id": "run-1",
        "user_id": "user-1",
        "strategy": "SmaCross",
        "symbol": "BTCUSDT",
        "timeframe": "1h",
        "start_time": T0,
        "end_time": T0 + 86_400_000,
        "starting_balance": Decimal(10_000),
        "leverage": 1,
        "hyperparameters": {},
        "now_ms": T0,
    }
    fields.update(changes)
    return StrategyRun.queued(**fields)  # type: ignore[arg-type]


def test_a_run_goes_queued_running_finished_and_then_never_changes() -> None:
    run = queued()
    assert (run.status, run.progress, run.active) == (RunStatus.QUEUED, Decimal(0), True)
    running = run.started(T0 + 1).advanced(Decimal("0.123456"), T0 + 2)
    assert (running.status, running.progress) == (RunStatus.RUNNING, Decimal("0.1234"))
    done = running.finished({"metrics": {}}, T0 + 3)
    assert (done.status, done.progress, done.updated_time, done.active) == (RunStatus.FINISHED, 1, T0 + 3, False)
    for change in (lambda r: r.cancelled(T0), lambda r: r.failed("x", T0), lambda r: r.started(T0)):
        with pytest.raises(RunNotActive, match="run-1 is finished already"):
            change(done)


def test_a_taken_over_run_starts_again_from_zero() -> None:
    running = queued().started(T0).advanced(Decimal("0.7"), T0 + 1)
    again = running.started(T0 + 2)
    assert (again.status, again.progress) == (RunStatus.RUNNING, Decimal(0))


def test_only_the_table_s_edges_exist() -> None:
    assert {s for s in RunStatus if not TRANSITIONS[s]} == TERMINAL
    with pytest.raises(InvalidRunTransition):
        queued().finished({}, T0)
    with pytest.raises(InvalidRunTransition):
        queued().advanced(Decimal("0.5"), T0)
    assert queued().cancelled(T0 + 5).status is RunStatus.CANCELLED


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"timeframe": "2m"}, "unknown timeframe '2m'"),
        ({"end_time": T0}, "end must be after start"),
        ({"starting_balance": Decimal(0)}, "startingBalance must be positive"),
        ({"leverage": 0}, "leverage must be at least 1"),
    ],
)
def test_a_run_is_checked_when_built(changes: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        queued(**changes)


def test_timeframes_are_jesse_s() -> None:
    assert check_timeframe("1D") == 86_400_000
    with pytest.raises(UnknownTimeframe, match="known: 1m, 5m, 15m, 30m, 1h, 4h, 1D"):
        check_timeframe("1d")


SPEC = StrategySpec(
    "SmaCross",
    "builtin",
    (
        Hyperparameter("fast", "int", 2, 100, 10),
        Hyperparameter("stop", "float", 0.5, 10.0, 2.0),
        Hyperparameter("flip", "bool", default=True),
        Hyperparameter("mode", "categorical", default="a", options=("a", "b")),
    ),
)


def test_hyperparameters_are_typed_as_declared() -> None:
    typed = SPEC.typed({"fast": "12", "stop": 2, "flip": "false", "mode": "b"})
    assert typed == {"fast": 12, "stop": 2.0, "flip": False, "mode": "b"}
    assert type(typed["stop"]) is float
    assert SPEC.typed({"fast": 12.0}) == {"fast": 12}


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"fast": 1}, "hyperparameter fast of SmaCross must be between 2 and 100; got 1"),
        ({"fast": 12.5}, "hyperparameter fast of SmaCross must be an integer; got 12.5"),
        ({"fast": True}, "must be an integer; got True"),
        ({"stop": "nan"}, "hyperparameter stop of SmaCross must be a number"),
        ({"flip": "maybe"}, "hyperparameter flip of SmaCross must be true or false"),
        ({"mode": "c"}, "hyperparameter mode of SmaCross must be one of a, b"),
        ({"slow": 3}, "SmaCross has no hyperparameter 'slow'; it has: fast, stop, flip, mode"),
    ],
)
def test_a_bad_hyperparameter_is_named(given: dict[str, object], message: str) -> None:
    with pytest.raises(BadHyperparameter, match=message):
        SPEC.typed(given)


def test_a_spec_survives_its_json_form() -> None:
    assert StrategySpec.from_dict(SPEC.as_dict()) == SPEC
