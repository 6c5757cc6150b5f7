"""Progress and final results of strategy runs from the `StrategyRunUpdates` bus to `strategy-run.{runId}`.

Only the run's owner may subscribe (`OwnedTopicFeed`); the pushes are built by the worker
(`application.strategy_runs.run_push`): ``{"topic", "type": "snapshot", "ts", "data": <the run>}``.
"""

from __future__ import annotations

from typing import Any

from tradesim.entrypoints.http.ws.hub import Hub
from tradesim.entrypoints.http.ws.owned_feed import OwnedTopicFeed, id_in
from tradesim.ports.strategy_runs import StrategyRunUpdates
from tradesim.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory

PREFIX = "strategy-run."


async def _owner(uow: UnitOfWork, run_id: str) -> str | None:
    run = await uow.strategy_runs.get(run_id)
    return None if run is None else run.user_id


class StrategyRunFeed(OwnedTopicFeed[dict[str, Any]]):
    def __init__(self, updates: StrategyRunUpdates, hub: Hub, uow_factory: UnitOfWorkFactory) -> None:
        super().__init__(
            PREFIX, hub, uow_factory, subscribe=updates.subscribe, owner_of=_owner, message=lambda _, push: push
        )


def run_id_of(topic: object) -> str | None:
    """The run id of a `strategy-run.{runId}` topic, else None."""
    return id_in(PREFIX, topic)
