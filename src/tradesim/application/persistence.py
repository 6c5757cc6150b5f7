"""Writing the engine's events to the stores: one outcome per batch, recorded in one write."""

from __future__ import annotations

from collections.abc import Sequence

from tradesim.domain.events import EngineEvent
from tradesim.domain.outcomes import Outcome
from tradesim.ports.unit_of_work import UnitOfWork


async def record_events(uow: UnitOfWork, events: Sequence[EngineEvent]) -> None:
    """Record what `events` leave (`Outcome.of`) in the caller's unit of work (the caller commits).

    Orders and positions are saved once, in their last state; balance rows are moved once each,
    by the sum of the batch's new ledger entries. A ledger entry already stored (a redelivered
    fill) is skipped together with its amount, so replays are no-ops.
    """
    await uow.outcomes.record(Outcome.of(events))
