"""Strategy backtest runs: table `strategy_runs`.

Hyperparameters and the result are JSON text (the result's numbers are decimal strings already).
The lease columns (`owner`, `lease_until`) change only through `claim` and `release`; every
write a worker makes is one conditional UPDATE on holding the lease of an active run, so a
worker whose lease lapsed, or a run its user cancelled, is never overwritten.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import BigInteger, Column, Index, Integer, Table, Text, bindparam, func, select, update

from tradesim.adapters.sqlalchemy.metadata import metadata
from tradesim.adapters.sqlalchemy.transaction import Transaction
from tradesim.adapters.sqlalchemy.types import ExactDecimal
from tradesim.domain.strategy_runs import TERMINAL, RunStatus, StrategyRun

strategy_runs = Table(
    "strategy_runs",
    metadata,
    Column("run_id", Text, primary_key=True),
    Column("user_id", Text, nullable=False),
    Column("strategy", Text, nullable=False),
    Column("symbol", Text, nullable=False),
    Column("timeframe", Text, nullable=False),
    Column("start_time", BigInteger, nullable=False),
    Column("end_time", BigInteger, nullable=False),
    Column("starting_balance", ExactDecimal, nullable=False),
    Column("leverage", Integer, nullable=False),
    Column("hyperparameters", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("progress", ExactDecimal, nullable=False),
    Column("error", Text, nullable=True),
    Column("result", Text, nullable=True),
    Column("created_time", BigInteger, nullable=False),
    Column("updated_time", BigInteger, nullable=False),
    Column("owner", Text, nullable=False, server_default=""),
    Column("lease_until", BigInteger, nullable=False, server_default="0"),
    Index(None, "user_id", "created_time"),
    Index(None, "status", "lease_until"),
)

_r = strategy_runs.c
_ACTIVE = [s.value for s in RunStatus if s not in TERMINAL]
_BY_ID = select(strategy_runs).where(_r.run_id == bindparam("run_id"))
_CLAIM = (
    update(strategy_runs)
    .where(
        _r.run_id == bindparam("key"),
        _r.status.in_(_ACTIVE),
        (_r.owner == bindparam("claimant")) | (_r.lease_until <= bindparam("now")),
    )
    .values(owner=bindparam("claimant"), lease_until=bindparam("until"))
)
_SAVE = (
    update(strategy_runs)
    .where(_r.run_id == bindparam("key"), _r.owner == bindparam("holder"), _r.status.in_(_ACTIVE))
    .values(
        status=bindparam("new_status"),
        progress=bindparam("new_progress"),
        error=bindparam("new_error"),
        result=bindparam("new_result"),
        updated_time=bindparam("new_updated_time"),
    )
)
_CANCEL = (
    update(strategy_runs)
    .where(_r.run_id == bindparam("key"), _r.status.in_(_ACTIVE))
    .values(status=RunStatus.CANCELLED.value, updated_time=bindparam("now"))
)
_RELEASE = (
    update(strategy_runs)
    .where(_r.run_id == bindparam("key"), _r.owner == bindparam("holder"))
    .values(owner="", lease_until=0)
)


def _to_row(run: StrategyRun) -> dict[str, Any]:
    return {
        "run_id": run.run_id,
        "user_id": run.user_id,
        "strategy": run.strategy,
        "symbol": run.symbol,
        "timeframe": run.timeframe,
        "start_time": run.start_time,
        "end_time": run.end_time,
        "starting_balance": run.starting_balance,
        "leverage": run.leverage,
        "hyperparameters": json.dumps(run.hyperparameters, separators=(",", ":")),
        "status": run.status.value,
        "progress": run.progress,
        "error": run.error,
        "result": _dump(run.result),
        "created_time": run.created_time,
        "updated_time": run.updated_time,
        "owner": run.owner,
        "lease_until": run.lease_until,
    }


def _dump(result: dict[str, Any] | None) -> str | None:
    return None if result is None else json.dumps(result, separators=(",", ":"))


def _from_row(row: Mapping[Any, Any]) -> StrategyRun:
    return StrategyRun(
        run_id=row["run_id"],
        user_id=row["user_id"],
        strategy=row["strategy"],
        symbol=row["symbol"],
        timeframe=row["timeframe"],
        start_time=row["start_time"],
        end_time=row["end_time"],
        starting_balance=row["starting_balance"],
        leverage=row["leverage"],
        hyperparameters=json.loads(row["hyperparameters"]),
        status=RunStatus(row["status"]),
        progress=row["progress"],
        error=row["error"],
        result=None if row["result"] is None else json.loads(row["result"]),
        created_time=row["created_time"],
        updated_time=row["updated_time"],
        owner=row["owner"],
        lease_until=row["lease_until"],
    )


class SqlStrategyRunRepository:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def add(self, run: StrategyRun) -> None:
        await self._tx.insert_once(strategy_runs, _to_row(run), _r.run_id, "strategy run")

    async def get(self, run_id: str) -> StrategyRun | None:
        row = (await self._tx.execute(_BY_ID, {"run_id": run_id})).mappings().first()
        return None if row is None else _from_row(row)

    async def list_by_user(self, user_id: str, *, limit: int = 100) -> list[StrategyRun]:
        query = (
            select(strategy_runs)
            .where(_r.user_id == user_id)
            .order_by(_r.created_time.desc(), _r.run_id.desc())
            .limit(limit)
        )
        return [_from_row(row) for row in (await self._tx.execute(query)).mappings()]

    async def count_active(self, user_id: str) -> int:
        query = select(func.count()).select_from(strategy_runs).where(_r.user_id == user_id, _r.status.in_(_ACTIVE))
        return int((await self._tx.execute(query)).scalar_one())

    async def list_claimable(self, now_ms: int, *, limit: int = 10) -> list[StrategyRun]:
        query = (
            select(strategy_runs)
            .where(_r.status.in_(_ACTIVE), _r.lease_until <= now_ms)
            .order_by(_r.created_time, _r.run_id)
            .limit(limit)
        )
        return [_from_row(row) for row in (await self._tx.execute(query)).mappings()]

    async def claim(self, run_id: str, owner: str, now_ms: int, until_ms: int) -> bool:
        params = {"key": run_id, "claimant": owner, "now": now_ms, "until": until_ms}
        return bool((await self._tx.execute(_CLAIM, params)).rowcount)

    async def save(self, run: StrategyRun, holder: str) -> bool:
        params = {
            "key": run.run_id,
            "holder": holder,
            "new_status": run.status.value,
            "new_progress": run.progress,
            "new_error": run.error,
            "new_result": _dump(run.result),
            "new_updated_time": run.updated_time,
        }
        return bool((await self._tx.execute(_SAVE, params)).rowcount)

    async def cancel(self, run_id: str, now_ms: int) -> bool:
        return bool((await self._tx.execute(_CANCEL, {"key": run_id, "now": now_ms})).rowcount)

    async def release(self, run_id: str, owner: str) -> None:
        await self._tx.execute(_RELEASE, {"key": run_id, "holder": owner})
