"""Contract of the strategy-deployment repository (every adapter in `UOW_BACKENDS`)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.contract import records
from tradesim.domain.errors import Conflict
from tradesim.domain.strategy_deployment import DeploymentExists, DeploymentStatus, StrategyDeployment
from tradesim.ports.unit_of_work import UnitOfWork

Deployment = StrategyDeployment
UowFactory = Callable[[], UnitOfWork]
T0 = records.T0


def deployment(
    n: int = 1, *, user: str = "user-1", account: str = "acc-1", symbol: str = "BTCUSDT"
) -> StrategyDeployment:
    return StrategyDeployment(
        deployment_id=f"dep-{n}",
        user_id=user,
        account_id=account,
        strategy="SmaCross",
        symbol=symbol,
        timeframe="5m",
        hyperparameters={"fast": 5, "slow": 20.5, "mode": "long"},
        created_time=T0 + n,
        updated_time=T0 + n,
    )


async def _add(uow_factory: UowFactory, *items: StrategyDeployment) -> None:
    async with uow_factory() as uow:
        for item in items:
            await uow.deployments.add(item)
        await uow.commit()


async def test_deployments_round_trip_and_are_listed_per_user_newest_first(uow_factory: UowFactory) -> None:
    await _add(uow_factory, deployment(1), deployment(2, symbol="ETHUSDT"), deployment(3, user="user-2", account="a2"))
    async with uow_factory() as uow:
        assert await uow.deployments.get("dep-1") == deployment(1)
        assert await uow.deployments.get("dep-9") is None
        assert [d.deployment_id for d in await uow.deployments.list_by_user("user-1")] == ["dep-2", "dep-1"]
        assert [d.deployment_id for d in await uow.deployments.list_by_user("user-1", limit=1)] == ["dep-2"]


async def test_one_running_deployment_per_account_and_symbol(uow_factory: UowFactory) -> None:
    await _add(uow_factory, deployment(1))
    with pytest.raises(DeploymentExists):
        await _add(uow_factory, deployment(2))
    with pytest.raises(Conflict):
        await _add(uow_factory, deployment(1, symbol="ETHUSDT"))
    async with uow_factory() as uow:
        assert await uow.deployments.change_status(deployment(1).stop(T0 + 50), DeploymentStatus.RUNNING)
        await uow.commit()
    await _add(uow_factory, deployment(2))  # the first one stopped: the symbol is free again
    async with uow_factory() as uow:
        assert (await uow.deployments.get("dep-2")) == deployment(2)


async def test_status_changes_only_from_the_expected_status(uow_factory: UowFactory) -> None:
    await _add(uow_factory, deployment(1))
    failed = deployment(1).fail("strategy X raised in should_long", T0 + 10)
    async with uow_factory() as uow:
        assert await uow.deployments.change_status(failed, DeploymentStatus.RUNNING)
        await uow.commit()
    async with uow_factory() as uow:
        # A stop recorded against a status that no longer holds changes nothing.
        assert not await uow.deployments.change_status(deployment(1).stop(T0 + 20), DeploymentStatus.RUNNING)
        await uow.commit()
    async with uow_factory() as uow:
        stored = await uow.deployments.get("dep-1")
    assert stored is not None
    assert (stored.status, stored.error, stored.updated_time) == (DeploymentStatus.FAILED, failed.error, T0 + 10)


async def test_leases_are_exclusive_until_they_lapse_and_follow_the_status(uow_factory: UowFactory) -> None:
    await _add(uow_factory, deployment(1), deployment(2, symbol="ETHUSDT"))
    async with uow_factory() as uow:
        assert await uow.deployments.claim("dep-1", "w-a", T0, T0 + 30_000)
        assert not await uow.deployments.claim("dep-1", "w-b", T0 + 1, T0 + 30_001)
        assert await uow.deployments.claim("dep-1", "w-a", T0 + 2, T0 + 30_002)  # renewed
        await uow.commit()
    async with uow_factory() as uow:
        assert [d.deployment_id for d in await uow.deployments.list_claimable("w-b", T0 + 5)] == ["dep-2"]
        assert {d.deployment_id for d in await uow.deployments.list_claimable("w-a", T0 + 5)} == {"dep-1", "dep-2"}
        # Lapsed: another worker takes it over.
        assert await uow.deployments.claim("dep-1", "w-b", T0 + 30_002, T0 + 60_000)
        await uow.commit()
    async with uow_factory() as uow:
        stored = await uow.deployments.get("dep-1")
        assert stored is not None
        assert (stored.owner, stored.lease_until) == ("w-b", T0 + 60_000)
        await uow.deployments.release("dep-1", "w-a")  # not the holder: nothing happens
        await uow.commit()
    async with uow_factory() as uow:
        stored = await uow.deployments.get("dep-1")
        assert stored is not None
        assert stored.owner == "w-b"
        await uow.deployments.release("dep-1", "w-b")
        assert await uow.deployments.change_status(deployment(2).stop(T0 + 9), DeploymentStatus.RUNNING)
        await uow.commit()
    async with uow_factory() as uow:
        stored = await uow.deployments.get("dep-1")
        assert stored is not None
        assert (stored.owner, stored.lease_until) == ("", 0)
        assert not await uow.deployments.claim("dep-2", "w-a", T0 + 10, T0 + 40_000)  # stopped: nobody runs it
        assert [d.deployment_id for d in await uow.deployments.list_claimable("w-a", T0 + 10)] == ["dep-1"]


async def test_decisions_are_recorded_only_by_the_lease_holder_of_a_running_deployment(uow_factory: UowFactory) -> None:
    await _add(uow_factory, deployment(1))
    async with uow_factory() as uow:
        assert await uow.deployments.claim("dep-1", "w-a", T0, T0 + 30_000)
        assert await uow.deployments.record_decision("dep-1", "w-a", T0 + 300_000, T0 + 300_010)
        assert not await uow.deployments.record_decision("dep-1", "w-b", T0 + 600_000, T0 + 600_010)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.deployments.change_status(deployment(1).stop(T0 + 400_000), DeploymentStatus.RUNNING)
        await uow.commit()
    async with uow_factory() as uow:
        assert not await uow.deployments.record_decision("dep-1", "w-a", T0 + 600_000, T0 + 600_010)
        stored = await uow.deployments.get("dep-1")
    assert stored is not None
    assert (stored.status, stored.last_decision_time) == (DeploymentStatus.STOPPED, T0 + 300_000)
