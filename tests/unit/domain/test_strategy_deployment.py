"""The deployment record: its state machine and the orderLinkIds of its decisions."""

from __future__ import annotations

import pytest

from tradesim.domain.errors import InvalidInput
from tradesim.domain.strategy_deployment import DeploymentConflict, DeploymentStatus, StrategyDeployment

ID = "8c1d2e3f-0a1b-4c2d-9e8f-0123456789ab"


def running() -> StrategyDeployment:
    return StrategyDeployment(ID, "u", "acc", "SmaCross", "BTCUSDT", "1m", created_time=1, updated_time=1)


def test_a_running_deployment_stops_once_and_a_repeated_stop_changes_nothing() -> None:
    stopped = running().stop(5)
    assert (stopped.status, stopped.updated_time, stopped.error) == (DeploymentStatus.STOPPED, 5, None)
    assert stopped.stop(9) is stopped


def test_a_failed_deployment_keeps_its_error_and_can_be_neither_stopped_nor_failed_again() -> None:
    failed = running().fail("strategy T raised ValueError in should_long (x.py:3): boom", 7)
    assert failed.status is DeploymentStatus.FAILED
    assert "should_long" in (failed.error or "")
    with pytest.raises(DeploymentConflict, match="failed; it cannot stop"):
        failed.stop(8)
    with pytest.raises(DeploymentConflict):
        running().stop(2).fail("late", 3)


def test_unknown_timeframe_and_an_error_without_failure_are_refused_where_the_record_is_built() -> None:
    with pytest.raises(InvalidInput, match="unknown timeframe '2m'; known: 1m, 5m"):
        StrategyDeployment(ID, "u", "acc", "SmaCross", "BTCUSDT", "2m")
    with pytest.raises(InvalidInput, match="error exactly when it failed"):
        StrategyDeployment(ID, "u", "acc", "SmaCross", "BTCUSDT", "1m", error="x")


def test_order_link_ids_repeat_for_the_same_decision_fit_bybit_and_are_recognised_as_its_own() -> None:
    deployment = running()
    first = deployment.order_link_id(1_700_000_040_000, 0)
    assert first == deployment.order_link_id(1_700_000_040_000, 0)
    assert (
        len({first, deployment.order_link_id(1_700_000_040_000, 1), deployment.order_link_id(1_700_000_100_000, 0)})
        == 3
    )
    assert len(first) <= 36
    assert deployment.made(first)
    other = StrategyDeployment("another-0000-0000-0000-000000000000", "u", "acc", "S", "BTCUSDT", "1m")
    assert not other.made(first)
