"""Writing the engine's events to the stores: one transaction per batch."""

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
    orders: dict[str, Order] = {}
    positions: dict[tuple[str, str], Position] = {}
    deltas: dict[tuple[str, str], Decimal] = {}
    for event in events:
        if isinstance(event, BalanceChanged):
            entry = event.entry
            if await uow.ledger.add(entry):
                key = (entry.account_id, entry.coin)
                deltas[key] = deltas.get(key, ZERO) + entry.amount
        elif isinstance(event, PositionChanged):
            positions[(event.position.account_id, event.position.symbol)] = event.position
        elif isinstance(event, CommandRejected):
            continue
        else:
            orders[event.order.order_id] = event.order
            if isinstance(event, OrderFilled):
                await uow.executions.add(event.execution)
    # One update per balance row, always in the same order: concurrent batches that touch the
    # same accounts then lock their rows in the same order and cannot deadlock.
    for (account_id, coin), delta in sorted(deltas.items()):
        await uow.balances.apply(account_id, coin, delta)
    for order in orders.values():
        await uow.orders.save(order)
    for position in positions.values():
        await uow.positions.save(position)
