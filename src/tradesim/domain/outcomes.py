"""What a batch of engine events leaves in the stores: its `Outcome`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal

import attrs

from tradesim.domain.events import BalanceChanged, CommandRejected, EngineEvent, OrderFilled, PositionChanged
from tradesim.domain.executions import Execution, LedgerEntry
from tradesim.domain.numbers import ZERO
from tradesim.domain.orders import Order
from tradesim.domain.positions import Position


@attrs.frozen
class Outcome:
    """New ledger entries and executions, and the last state of each order and position touched.

    Recording it (`OutcomeRepository.record`) is idempotent: an entry or execution stored already
    is skipped, the entry together with its amount, so a redelivered batch moves no balance twice.
    """

    entries: tuple[LedgerEntry, ...] = ()
    executions: tuple[Execution, ...] = ()
    orders: tuple[Order, ...] = ()
    positions: tuple[Position, ...] = ()

    @classmethod
    def of(cls, events: Sequence[EngineEvent]) -> Outcome:
        # The first copy of an entry counts, as the store would keep it; a later one is skipped.
        # An order or position is kept once, in its last state (a statement may touch a row once).
        entries: dict[str, LedgerEntry] = {}
        executions: list[Execution] = []
        orders: dict[str, Order] = {}
        positions: dict[tuple[str, str], Position] = {}
        for event in events:
            if isinstance(event, BalanceChanged):
                entries.setdefault(event.entry.entry_id, event.entry)
            elif isinstance(event, PositionChanged):
                positions[(event.position.account_id, event.position.symbol)] = event.position
            elif isinstance(event, CommandRejected):
                continue
            else:
                orders[event.order.order_id] = event.order
                if isinstance(event, OrderFilled):
                    executions.append(event.execution)
        return cls(tuple(entries.values()), tuple(executions), tuple(orders.values()), tuple(positions.values()))

    def __bool__(self) -> bool:
        return bool(self.entries or self.executions or self.orders or self.positions)


def balance_moves(entries: Iterable[LedgerEntry]) -> dict[tuple[str, str], Decimal]:
    """The amount each (account, coin) balance moves by: the sum of its entries."""
    moves: dict[tuple[str, str], Decimal] = {}
    for entry in entries:
        key = (entry.account_id, entry.coin)
        moves[key] = moves.get(key, ZERO) + entry.amount
    return moves
