"""Strategy deployments in memory (see `ports.repositories.StrategyDeploymentRepository`)."""

from __future__ import annotations

import attrs

from tradesim.adapters.memory.repositories import _Repo
from tradesim.adapters.memory.tables import Tables
from tradesim.domain.errors import Conflict
from tradesim.domain.strategy_deployment import DeploymentExists, DeploymentStatus, StrategyDeployment

_RUNNING = DeploymentStatus.RUNNING


def _running_on(t: Tables, account_id: str, symbol: str) -> StrategyDeployment | None:
    return next(
        (
            d
            for d in t.deployments.values()
            if d.account_id == account_id and d.symbol == symbol and d.status is _RUNNING
        ),
        None,
    )


class MemoryStrategyDeploymentRepository(_Repo):
    async def add(self, deployment: StrategyDeployment) -> None:
        def op(t: Tables) -> None:
            if deployment.deployment_id in t.deployments:
                raise Conflict(f"deployment {deployment.deployment_id} exists already")
            if deployment.status is _RUNNING and _running_on(t, deployment.account_id, deployment.symbol):
                raise DeploymentExists(_exists_message(deployment))
            t.deployments[deployment.deployment_id] = deployment

        self._write(op)

    async def get(self, deployment_id: str) -> StrategyDeployment | None:
        return self._work.deployments.get(deployment_id)

    async def list_by_user(self, user_id: str, *, limit: int = 100) -> list[StrategyDeployment]:
        found = [d for d in self._work.deployments.values() if d.user_id == user_id]
        found.sort(key=lambda d: (d.created_time, d.deployment_id), reverse=True)
        return found[:limit]

    async def change_status(self, changed: StrategyDeployment, expected: DeploymentStatus) -> bool:
        def matches(t: Tables) -> bool:
            stored = t.deployments.get(changed.deployment_id)
            return stored is not None and stored.status is expected

        if not matches(self._work):
            return False

        def op(t: Tables) -> None:
            if not matches(t):
                raise Conflict(f"deployment {changed.deployment_id} changed meanwhile")
            stored = t.deployments[changed.deployment_id]
            t.deployments[changed.deployment_id] = attrs.evolve(
                stored, status=changed.status, error=changed.error, updated_time=changed.updated_time
            )

        self._write(op)
        return True

    async def record_decision(self, deployment_id: str, owner: str, bar_close_ms: int, now_ms: int) -> bool:
        def matches(t: Tables) -> bool:
            stored = t.deployments.get(deployment_id)
            return stored is not None and stored.status is _RUNNING and stored.owner == owner

        if not matches(self._work):
            return False

        def op(t: Tables) -> None:
            if matches(t):
                stored = t.deployments[deployment_id]
                t.deployments[deployment_id] = attrs.evolve(
                    stored, last_decision_time=bar_close_ms, updated_time=now_ms
                )

        self._write(op)
        return True

    async def list_claimable(self, owner: str, now_ms: int, *, limit: int = 100) -> list[StrategyDeployment]:
        found = [
            d
            for d in self._work.deployments.values()
            if d.status is _RUNNING and (d.owner == owner or d.lease_until <= now_ms)
        ]
        found.sort(key=lambda d: (d.updated_time, d.deployment_id))
        return found[:limit]

    async def claim(self, deployment_id: str, owner: str, now_ms: int, until_ms: int) -> bool:
        def claimable(t: Tables) -> bool:
            stored = t.deployments.get(deployment_id)
            return (
                stored is not None
                and stored.status is _RUNNING
                and (stored.owner == owner or stored.lease_until <= now_ms)
            )

        if not claimable(self._work):
            return False

        def op(t: Tables) -> None:
            # Checked again at commit, as the conditional UPDATE would be.
            if not claimable(t):
                raise Conflict(f"deployment {deployment_id} was claimed by another worker")
            t.deployments[deployment_id] = attrs.evolve(t.deployments[deployment_id], owner=owner, lease_until=until_ms)

        self._write(op)
        return True

    async def release(self, deployment_id: str, owner: str) -> None:
        def op(t: Tables) -> None:
            stored = t.deployments.get(deployment_id)
            if stored is not None and stored.owner == owner:
                t.deployments[deployment_id] = attrs.evolve(stored, owner="", lease_until=0)

        self._write(op)


def _exists_message(deployment: StrategyDeployment) -> str:
    return (
        f"account {deployment.account_id} already runs a deployment on {deployment.symbol}; "
        "stop it before deploying another there"
    )
