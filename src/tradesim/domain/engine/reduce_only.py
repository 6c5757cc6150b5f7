"""Reduce-only: a linear order that may only shrink the position it stands against, never open or grow one."""

from __future__ import annotations

from decimal import Decimal

from tradesim.domain.engine.state import AccountState
from tradesim.domain.errors import ReduceOnlyWouldGrow
from tradesim.domain.instruments import Instrument
from tradesim.domain.numbers import ZERO
from tradesim.domain.orders import Order


def applies(order: Order, instrument: Instrument) -> bool:
    """Spot has no position: reduce-only means something on linear instruments only."""
    return order.reduce_only and instrument.is_linear


def refusal(account: AccountState, order: Order) -> ReduceOnlyWouldGrow | None:
    """Why the order may not fill now (no position against it), or None when it may."""
    position = account.positions.get(order.symbol)
    if position is not None and position.side is order.side.opposite:
        return None
    held = "no position" if position is None or position.side is None else f"a {position.side.value} position"
    return ReduceOnlyWouldGrow(
        f"reduce-only {order.side.value} order would open or increase a position: {order.symbol} has {held}"
    )


def cap(account: AccountState, order: Order, qty: Decimal) -> Decimal:
    """At most the size of the position the order closes."""
    position = account.positions.get(order.symbol)
    return min(qty, position.size if position is not None else ZERO)
