"""Strategy runs in memory: the repository, the published catalogue, the progress bus."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import attrs

from tradesim.adapters.memory.messaging import _QueueSubscription
from tradesim.adapters.memory.repositories import _Repo
from tradesim.adapters.memory.tables import Tables
from tradesim.domain.errors import Conflict
from tradesim.domain.strategy_runs import RunStatus, StrategyRun
from tradesim.domain.strategy_specs import StrategySpec


class MemoryStrategyRunRepository(_Repo):
    async def add(self, run: StrategyRun) -> None:
        def op(t: Tables) -> None:
            if run.run_id in t.strategy_runs:
                raise Conflict(f"strategy run {run.run_id} exists already")
            t.strategy_runs[run.run_id] = run

        self._write(op)

    async def get(self, run_id: str) -> StrategyRun | None:
        return self._work.strategy_runs.get(run_id)

    async def list_by_user(self, user_id: str, *, limit: int = 100) -> list[StrategyRun]:
        found = [r for r in self._work.strategy_runs.values() if r.user_id == user_id]
        found.sort(key=lambda r: (r.created_time, r.run_id), reverse=True)
        return found[:limit]

    async def count_active(self, user_id: str) -> int:
        return sum(r.user_id == user_id and r.active for r in self._work.strategy_runs.values())

    async def list_claimable(self, now_ms: int, *, limit: int = 10) -> list[StrategyRun]:
        found = [r for r in self._work.strategy_runs.values() if r.active and r.lease_until <= now_ms]
        found.sort(key=lambda r: (r.created_time, r.run_id))
        return found[:limit]

    def _conditional(self, run_id: str, allowed: Callable[[StrategyRun], bool], change: Callable[..., Any]) -> bool:
        """Check now and again at commit, as a conditional UPDATE would: a change another
        transaction made in the meantime fails this commit instead of being overwritten."""
        stored = self._work.strategy_runs.get(run_id)
        if stored is None or not allowed(stored):
            return False

        def op(t: Tables) -> None:
            current = t.strategy_runs.get(run_id)
            if current is None or not allowed(current):
                raise Conflict(f"strategy run {run_id} was changed by another worker")
            t.strategy_runs[run_id] = change(current)

        self._write(op)
        return True

    async def claim(self, run_id: str, owner: str, now_ms: int, until_ms: int) -> bool:
        return self._conditional(
            run_id,
            lambda r: r.active and (r.owner == owner or r.lease_until <= now_ms),
            lambda r: attrs.evolve(r, owner=owner, lease_until=until_ms),
        )

    async def save(self, run: StrategyRun, holder: str) -> bool:
        return self._conditional(
            run.run_id,
            lambda r: r.active and r.owner == holder,
            lambda r: attrs.evolve(
                r,
                status=run.status,
                progress=run.progress,
                error=run.error,
                result=run.result,
                updated_time=run.updated_time,
            ),
        )

    async def cancel(self, run_id: str, now_ms: int) -> bool:
        return self._conditional(
            run_id,
            lambda r: r.active,
            lambda r: attrs.evolve(r, status=RunStatus.CANCELLED, updated_time=now_ms),
        )

    async def release(self, run_id: str, owner: str) -> None:
        def op(t: Tables) -> None:
            stored = t.strategy_runs.get(run_id)
            if stored is not None and stored.owner == owner:
                t.strategy_runs[run_id] = attrs.evolve(stored, owner="", lease_until=0)

        self._write(op)


class MemoryStrategyCatalogueBoard:
    def __init__(self) -> None:
        self._specs: list[StrategySpec] | None = None

    async def publish(self, specs: Sequence[StrategySpec]) -> None:
        self._specs = list(specs)

    async def read(self) -> list[StrategySpec] | None:
        return None if self._specs is None else list(self._specs)


class MemoryRunSubscription(_QueueSubscription):
    def __init__(self, owner: set[_QueueSubscription], run_id: str, capacity: int) -> None:
        super().__init__(owner, capacity)
        self.run_id = run_id

    async def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        async for message in self._messages():
            yield message  # type: ignore[misc]


class MemoryStrategyRunUpdates:
    def __init__(self, capacity: int = 1000) -> None:
        self._subscriptions: set[_QueueSubscription] = set()
        self._capacity = capacity

    async def publish(self, run_id: str, message: dict[str, Any]) -> None:
        for subscription in list(self._subscriptions):
            if isinstance(subscription, MemoryRunSubscription) and subscription.run_id == run_id:
                subscription.offer(message)

    def subscribe(self, run_id: str) -> MemoryRunSubscription:
        return MemoryRunSubscription(self._subscriptions, run_id, self._capacity)
