"""Writing the engine's events to the stores: one transaction per batch, one statement per table."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from tradesim.domain.events import (
    BalanceChanged,
    CommandRejected,
    EngineEvent,
    OrderFilled,
    PositionChanged,
)
from tradesim.domain.executions import Execution, LedgerEntry
from tradesim.domain.numbers import ZERO
from tradesim.domain.orders import Order
from tradesim.domain.positions import Position
from tradesim.ports.unit_of_work import UnitOfWork


async def record_events(uow: UnitOfWork, events: Sequence[EngineEvent]) -> None:
    """Apply `events` inside the caller's transaction (the caller commits).

    Orders and positions are saved once, in their last state; balance rows are moved once each,
    by the sum of the batch's new ledger entries. A ledger entry already stored (a redelivered
    fill) is skipped together with its amount, so replays are no-ops.
    """
    entries: dict[str, LedgerEntry] = {}
    executions: list[Execution] = []
    orders: dict[str, Order] = {}
    positions: dict[tuple[str, str], Position] = {}
    for event in events:
        if isinstance(event, BalanceChanged):
            # The first copy of an entry counts, as the store would keep it; a second is skipped.
            entries.setdefault(event.entry.entry_id, event.entry)
        elif isinstance(event, PositionChanged):
            positions[(event.position.account_id, event.position.symbol)] = event.position
        elif isinstance(event, CommandRejected):
            continue
        else:
            orders[event.order.order_id] = event.order
            if isinstance(event, OrderFilled):
                executions.append(event.execution)
    inserted = await uow.ledger.add_many(list(entries.values()))
    await uow.executions.add_many(executions)
    deltas: dict[tuple[str, str], Decimal] = {}
    for entry in entries.values():
        if entry.entry_id not in inserted:
            continue
        key = (entry.account_id, entry.coin)
        deltas[key] = deltas.get(key, ZERO) + entry.amount
    # Sorted by the repository, so concurrent batches lock shared balance rows in one order.
    await uow.balances.apply_many(deltas)
    await uow.orders.save_many(list(orders.values()))
    await uow.positions.save_many(list(positions.values()))
