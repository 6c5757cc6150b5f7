"""The order state machine: every listed edge is allowed, every other edge raises, terminal states have no exits."""

import itertools
from decimal import Decimal

import pytest

from tradesim.domain import (
    CancelReason,
    InvalidOrderTransition,
    Order,
    OrderStatus,
    OrderType,
    Side,
)
from tradesim.domain.orders import TRANSITIONS, check_transition

D = Decimal
S = OrderStatus

# The edges as Bybit's order lifecycle has them, written out independently of the module's table.
# None is "the order does not exist yet".
EXPECTED_EDGES: set[tuple[OrderStatus | None, OrderStatus]] = {
    (None, S.NEW),
    (None, S.UNTRIGGERED),
    (None, S.REJECTED),
    (S.NEW, S.PARTIALLY_FILLED),
    (S.NEW, S.FILLED),
    (S.NEW, S.CANCELLED),
    (S.NEW, S.REJECTED),
    (S.PARTIALLY_FILLED, S.PARTIALLY_FILLED),
    (S.PARTIALLY_FILLED, S.FILLED),
    (S.PARTIALLY_FILLED, S.CANCELLED),
    (S.UNTRIGGERED, S.TRIGGERED),
    (S.UNTRIGGERED, S.DEACTIVATED),
    (S.UNTRIGGERED, S.REJECTED),
    (S.TRIGGERED, S.NEW),
    (S.TRIGGERED, S.PARTIALLY_FILLED),
    (S.TRIGGERED, S.FILLED),
    (S.TRIGGERED, S.CANCELLED),
    (S.TRIGGERED, S.REJECTED),
}
TERMINAL = {S.FILLED, S.CANCELLED, S.REJECTED, S.DEACTIVATED}
SOURCES: list[OrderStatus | None] = [None, *OrderStatus]
ALL_PAIRS = list(itertools.product(SOURCES, list(OrderStatus)))


def test_the_table_is_exactly_the_expected_edges() -> None:
    table_edges = {(source, target) for source, targets in TRANSITIONS.items() for target in targets}
    assert table_edges == EXPECTED_EDGES
    assert set(TRANSITIONS) == set(SOURCES)


@pytest.mark.parametrize(("source", "target"), sorted(EXPECTED_EDGES, key=str))
def test_every_listed_edge_is_allowed(source: OrderStatus | None, target: OrderStatus) -> None:
    check_transition(source, target)


@pytest.mark.parametrize(
    ("source", "target"), [pair for pair in ALL_PAIRS if pair not in EXPECTED_EDGES], ids=lambda s: str(s)
)
def test_every_other_edge_raises(source: OrderStatus | None, target: OrderStatus) -> None:
    with pytest.raises(InvalidOrderTransition) as info:
        check_transition(source, target)
    name = "(none)" if source is None else source.value
    assert info.value.message == f"order status cannot move from {name} to {target.value}"
    assert info.value.code == "INVALID_ORDER_TRANSITION"


@pytest.mark.parametrize("status", sorted(TERMINAL))
def test_terminal_states_have_no_exits(status: OrderStatus) -> None:
    assert status.is_terminal
    assert not status.is_open
    assert TRANSITIONS[status] == frozenset()


def test_open_and_terminal_are_what_a_trader_expects() -> None:
    assert {s for s in OrderStatus if s.is_open} == {S.NEW, S.PARTIALLY_FILLED, S.UNTRIGGERED}
    assert {s for s in OrderStatus if s.is_terminal} == TERMINAL
    # Triggered is neither: a conditional order passes through it on its way to New or a fill.
    assert not S.TRIGGERED.is_open
    assert not S.TRIGGERED.is_terminal


def make(status: OrderStatus, qty: str = "0.010", **fields: object) -> Order:
    return Order(
        order_id="o-1",
        account_id="acc",
        symbol="BTCUSDT",
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        qty=D(qty),
        status=status,
        created_time=1,
        updated_time=1,
        price=D("30000"),
        **fields,  # type: ignore[arg-type]
    )


def test_fills_move_new_to_partially_filled_to_filled_with_averages() -> None:
    order = make(S.NEW)
    # 0.004 at 30,000 then 0.006 at 30,010: cum value 120 + 180.06 = 300.06, avg 300.06 / 0.01 = 30,006.
    first = order.with_fill(D("0.004"), D("30000"), D("0.024"), ts=2)
    assert (first.status, first.cum_exec_qty, first.leaves_qty) == (S.PARTIALLY_FILLED, D("0.004"), D("0.006"))
    second = first.with_fill(D("0.006"), D("30010"), D("0.036"), ts=3)
    assert second.status is S.FILLED
    assert second.cum_exec_value == D("300.06")
    assert second.avg_price == D("30006")
    assert second.cum_exec_fee == D("0.060")
    assert second.leaves_qty == 0
    assert second.updated_time == 3
    # A filled order is closed: no more fills, no cancel, no reject.
    with pytest.raises(InvalidOrderTransition, match="from Filled to Filled"):
        second.with_fill(D("0.001"), D("30000"), D("0"), ts=4)
    with pytest.raises(InvalidOrderTransition, match="from Filled to Cancelled"):
        second.cancelled(CancelReason.BY_USER, ts=4)
    with pytest.raises(InvalidOrderTransition, match="from Filled to Rejected"):
        second.rejected("X", "x", ts=4)


def test_cancelling_an_untriggered_order_deactivates_it() -> None:
    untriggered = make(S.UNTRIGGERED, trigger_price=D("31000"))
    deactivated = untriggered.cancelled(CancelReason.BY_USER, ts=5)
    assert deactivated.status is S.DEACTIVATED
    assert deactivated.cancel_type == "CancelByUser"
    cancelled = make(S.PARTIALLY_FILLED, cum_exec_qty=D("0.004")).cancelled(CancelReason.IOC_REMAINDER, ts=5)
    assert cancelled.status is S.CANCELLED
    assert cancelled.leaves_qty == 0
    assert cancelled.remaining_qty == D("0.006")


def test_a_partially_filled_order_cannot_be_rejected_any_more() -> None:
    with pytest.raises(InvalidOrderTransition, match="from PartiallyFilled to Rejected"):
        make(S.PARTIALLY_FILLED).rejected("INSUFFICIENT_MARGIN", "no", ts=2)
    rejected = make(S.NEW).rejected("INSUFFICIENT_MARGIN", "order cost 1 USDT exceeds", ts=2)
    assert (rejected.status, rejected.reject_reason) == (S.REJECTED, "INSUFFICIENT_MARGIN")
