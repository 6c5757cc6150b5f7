"""Live strategy deployments: table `strategy_deployments`.

Every write is one conditional UPDATE (see `ports.repositories.StrategyDeploymentRepository`);
at most one running deployment per account and symbol is a partial unique index, so two
concurrent requests cannot both start one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import BigInteger, Column, Index, Table, Text, bindparam, select, update

from tradesim.adapters.sqlalchemy.mapping import RecordMap
from tradesim.adapters.sqlalchemy.metadata import metadata
from tradesim.adapters.sqlalchemy.transaction import Transaction
from tradesim.domain.errors import Conflict
from tradesim.domain.strategy_deployment import DeploymentExists, DeploymentStatus, StrategyDeployment

_RUNNING = DeploymentStatus.RUNNING.value

strategy_deployments = Table(
    "strategy_deployments",
    metadata,
    Column("deployment_id", Text, primary_key=True),
    Column("user_id", Text, nullable=False),
    Column("account_id", Text, nullable=False),
    Column("strategy", Text, nullable=False),
    Column("symbol", Text, nullable=False),
    Column("timeframe", Text, nullable=False),
    Column("hyperparameters", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("last_decision_time", BigInteger, nullable=True),
    Column("error", Text, nullable=True),
    Column("created_time", BigInteger, nullable=False),
    Column("updated_time", BigInteger, nullable=False),
    Column("owner", Text, nullable=False, server_default=""),
    Column("lease_until", BigInteger, nullable=False, server_default="0"),
    Index(None, "user_id", "created_time"),
    Index(None, "status", "lease_until"),
    Index(
        "uq_strategy_deployments_running",
        "account_id",
        "symbol",
        unique=True,
        postgresql_where=Column("status", Text) == _RUNNING,
        sqlite_where=Column("status", Text) == _RUNNING,
    ),
)

#: Hyperparameters are JSON text: plain values (numbers, strings, booleans) by name.
DEPLOYMENT = RecordMap(StrategyDeployment, exclude=("hyperparameters",))


def _to_row(deployment: StrategyDeployment) -> dict[str, Any]:
    return {**DEPLOYMENT.to_row(deployment), "hyperparameters": json.dumps(deployment.hyperparameters)}


def _from_row(row: Mapping[Any, Any]) -> StrategyDeployment:
    return DEPLOYMENT.from_row(row, hyperparameters=json.loads(row["hyperparameters"]))


_d = strategy_deployments.c
_BY_ID = select(strategy_deployments).where(_d.deployment_id == bindparam("deployment_id"))
_CHANGE_STATUS = (
    update(strategy_deployments)
    .where(_d.deployment_id == bindparam("key"), _d.status == bindparam("expected"))
    .values(status=bindparam("new_status"), error=bindparam("new_error"), updated_time=bindparam("now"))
)
_DECIDED = (
    update(strategy_deployments)
    .where(_d.deployment_id == bindparam("key"), _d.status == _RUNNING, _d.owner == bindparam("holder"))
    .values(last_decision_time=bindparam("bar"), updated_time=bindparam("now"))
)
_CLAIM = (
    update(strategy_deployments)
    .where(
        _d.deployment_id == bindparam("key"),
        _d.status == _RUNNING,
        (_d.owner == bindparam("claimant")) | (_d.lease_until <= bindparam("now")),
    )
    .values(owner=bindparam("claimant"), lease_until=bindparam("until"))
)
_RELEASE = (
    update(strategy_deployments)
    .where(_d.deployment_id == bindparam("key"), _d.owner == bindparam("holder"))
    .values(owner="", lease_until=0)
)


class SqlStrategyDeploymentRepository:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def add(self, deployment: StrategyDeployment) -> None:
        if await self._tx.insert_new(strategy_deployments, _to_row(deployment), _d.deployment_id):
            return
        if await self.get(deployment.deployment_id) is not None:
            raise Conflict(f"deployment {deployment.deployment_id} exists already")
        raise DeploymentExists(
            f"account {deployment.account_id} already runs a deployment on {deployment.symbol}; "
            "stop it before deploying another there"
        )

    async def get(self, deployment_id: str) -> StrategyDeployment | None:
        row = (await self._tx.execute(_BY_ID, {"deployment_id": deployment_id})).mappings().first()
        return None if row is None else _from_row(row)

    async def list_by_user(self, user_id: str, *, limit: int = 100) -> list[StrategyDeployment]:
        query = (
            select(strategy_deployments)
            .where(_d.user_id == user_id)
            .order_by(_d.created_time.desc(), _d.deployment_id.desc())
            .limit(limit)
        )
        return [_from_row(row) for row in (await self._tx.execute(query)).mappings()]

    async def change_status(self, changed: StrategyDeployment, expected: DeploymentStatus) -> bool:
        params = {
            "key": changed.deployment_id,
            "expected": expected.value,
            "new_status": changed.status.value,
            "new_error": changed.error,
            "now": changed.updated_time,
        }
        return bool((await self._tx.execute(_CHANGE_STATUS, params)).rowcount)

    async def record_decision(self, deployment_id: str, owner: str, bar_close_ms: int, now_ms: int) -> bool:
        params = {"key": deployment_id, "holder": owner, "bar": bar_close_ms, "now": now_ms}
        return bool((await self._tx.execute(_DECIDED, params)).rowcount)

    async def list_claimable(self, owner: str, now_ms: int, *, limit: int = 100) -> list[StrategyDeployment]:
        query = (
            select(strategy_deployments)
            .where(_d.status == _RUNNING, (_d.owner == owner) | (_d.lease_until <= now_ms))
            .order_by(_d.updated_time, _d.deployment_id)
            .limit(limit)
        )
        return [_from_row(row) for row in (await self._tx.execute(query)).mappings()]

    async def claim(self, deployment_id: str, owner: str, now_ms: int, until_ms: int) -> bool:
        params = {"key": deployment_id, "claimant": owner, "now": now_ms, "until": until_ms}
        return bool((await self._tx.execute(_CLAIM, params)).rowcount)

    async def release(self, deployment_id: str, owner: str) -> None:
        await self._tx.execute(_RELEASE, {"key": deployment_id, "holder": owner})
