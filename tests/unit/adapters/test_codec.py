"""The JSON of commands and events crossing processes: exact round trips, clear refusals."""

from __future__ import annotations

from decimal import Decimal

import attrs
import pytest

from tests.contract import records
from tradesim.adapters.codec import Codec
from tradesim.domain import OrderStatus, OrderType, PlaceOrder, Side
from tradesim.domain.errors import InsufficientBalance
from tradesim.domain.events import BalanceChanged, CommandRejected, EngineEvent, OrderFilled, PositionChanged


def test_events_come_back_equal_with_every_decimal_digit() -> None:
    codec = Codec()
    order = attrs.evolve(records.order(1), price=Decimal("30000.10"), qty=Decimal("0.0010"))
    events: list[EngineEvent] = [
        OrderFilled(order, records.execution(1)),
        PositionChanged(records.position(size="0.0100")),
        BalanceChanged(records.entry(1, "-0.00000001")),
        CommandRejected("acc-1", "cancel", InsufficientBalance("needs 5 USDT, has 1 — top up"), order_id="ord-1"),
    ]
    back = codec.decode_events(codec.encode_events(events))
    assert back[:3] == events[:3]
    assert isinstance(back[0], OrderFilled)
    assert str(back[0].order.price) == "30000.10"
    # An enum comes back as its member, not as the text it equals.
    assert back[0].order.side is Side.BUY
    assert back[0].order.status is OrderStatus.NEW
    rejected = back[3]
    assert isinstance(rejected, CommandRejected)
    assert isinstance(rejected.error, InsufficientBalance)
    assert rejected.error.message == "needs 5 USDT, has 1 — top up"


def test_a_command_comes_back_equal_and_its_numbers_travel_as_text() -> None:
    codec = Codec()
    command = PlaceOrder(
        account_id="acc-1", symbol="BTCUSDT", side=Side.BUY, order_type=OrderType.LIMIT,
        qty=Decimal("0.001"), price=Decimal("29999.90"), order_link_id="ä-link",
    )  # fmt: skip
    payload = codec.encode_command(command)
    assert b'"29999.90"' in payload
    assert codec.decode_command(payload) == command


@pytest.mark.parametrize("payload", [b"{not json", b"", b"[1, 2"])
def test_malformed_json_is_a_value_error(payload: bytes) -> None:
    # Readers of the queue and the recorded commands park what fails to decode, by ValueError.
    with pytest.raises(ValueError):
        Codec().decode_command(payload)
    with pytest.raises(ValueError):
        Codec().decode_events(payload)
