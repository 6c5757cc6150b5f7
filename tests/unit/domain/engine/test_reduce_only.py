"""Reduce-only orders: never open or grow a position, never fill more than it."""

from decimal import Decimal

from tests.unit.domain.conftest import Sim, fills, one
from tradesim.domain import (
    CancelReason,
    OrderAccepted,
    OrderCancelled,
    OrderRejected,
    OrderStatus,
)
from tradesim.domain.errors import (
    ReduceOnlyWouldGrow,
)

D = Decimal


def test_reduce_only_is_rejected_when_it_would_open_or_grow_a_position(sim: Sim) -> None:
    sim.tick("30000", bid="29999.9", ask="30000.1")
    rejected = one(sim.sell("0.01", reduce_only=True), OrderRejected)
    assert isinstance(rejected.error, ReduceOnlyWouldGrow)
    assert rejected.error.message == "reduce-only Sell order would open or increase a position: BTCUSDT has no position"
    sim.buy("0.01")
    rejected = one(sim.buy("0.01", reduce_only=True), OrderRejected)
    assert rejected.error.message == (
        "reduce-only Buy order would open or increase a position: BTCUSDT has a Buy position"
    )
    assert sim.position().size == D("0.01")


def test_reduce_only_is_clamped_to_the_position_size(sim: Sim) -> None:
    sim.tick("30000", bid="29999.9", ask="30000.1")
    sim.buy("0.01")
    events = sim.sell("0.03", reduce_only=True)
    # Only the 0.01 held is sold; the position closes instead of flipping short, and the rest is cancelled.
    (fill,) = fills(events)
    assert (fill.exec_qty, fill.closed_size) == (D("0.01"), D("0.01"))
    assert sim.position().size == 0
    cancelled = one(events, OrderCancelled)
    assert cancelled.order.cum_exec_qty == D("0.01")
    assert cancelled.order.status is OrderStatus.CANCELLED


def test_a_resting_reduce_only_order_is_cancelled_when_the_position_closes(sim: Sim) -> None:
    sim.tick("30000", bid="29999.9", ask="30000.1")
    sim.buy("0.01")
    reduce = one(sim.sell("0.01", price="31000", reduce_only=True), OrderAccepted).order
    # A reduce-only order holds no margin.
    assert sim.view().order_im == 0
    events = sim.sell("0.01")
    cancelled = one(events, OrderCancelled)
    assert (cancelled.order.order_id, cancelled.reason) == (reduce.order_id, CancelReason.REDUCE_ONLY_NO_POSITION)
    assert sim.engine.open_orders() == []


def test_a_resting_reduce_only_order_fills_only_what_is_left(sim: Sim) -> None:
    sim.tick("30000", bid="29999.9", ask="30000.1")
    sim.buy("0.02")
    sim.sell("0.02", price="31000", reduce_only=True)
    sim.sell("0.015")  # the position shrinks to 0.005 behind the resting order's back
    sim.advance(1000)
    events = sim.tick("31000")
    (fill,) = fills(events)
    assert (fill.exec_qty, fill.exec_price, fill.is_maker) == (D("0.005"), D(31000), True)
    assert sim.position().size == 0
    assert one(events, OrderCancelled).reason is CancelReason.REDUCE_ONLY_NO_POSITION
