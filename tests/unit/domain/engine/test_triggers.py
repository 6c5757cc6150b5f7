"""What a price makes due: resting limits, conditional orders by last or mark price, their order."""

from decimal import Decimal

from tests.unit.domain.conftest import Sim, fills, of_type, one
from tradesim.domain import (
    OrderAccepted,
    OrderFilled,
    OrderRejected,
    OrderStatus,
    OrderTriggered,
    Side,
    TimeInForce,
    Trade,
    TriggerBy,
    TriggerDirection,
)
from tradesim.domain.errors import (
    InvalidTrigger,
)

D = Decimal
RISES = TriggerDirection.RISES_TO
FALLS = TriggerDirection.FALLS_TO


def test_a_gtc_limit_rests_then_fills_as_maker_at_its_own_price(sim: Sim) -> None:
    sim.tick("30000", bid="29999.9", ask="30000.1")
    events = sim.buy("0.01", price="29900")
    accepted = one(events, OrderAccepted).order
    assert (accepted.status, accepted.time_in_force, accepted.price) == (OrderStatus.NEW, TimeInForce.GTC, D(29900))
    assert fills(events) == []
    assert [o.order_id for o in sim.engine.open_orders("acc")] == [accepted.order_id]
    # It holds its order cost: IM 299 / 10 = 29.9, open fee 299 x 0.00055 = 0.16445,
    # close fee at bankruptcy 0.01 x 26,910 x 0.00055 = 0.148005 -> 30.212455.
    assert sim.view().order_im == D("30.212455")
    # A last price above the limit fills nothing.
    sim.advance(1000)
    assert sim.tick("29900.1", bid="29900", ask="29900.2") == []
    # The market trades through it (29,850): the order fills at its own 29,900, as maker.
    sim.advance(1000)
    events = sim.tick("29850", bid="29849.9", ask="29850.1")
    (fill,) = fills(events)
    assert (fill.exec_price, fill.exec_qty, fill.is_maker) == (D(29900), D("0.01"), True)
    # Maker fee 299 x 0.0002 = 0.0598.
    assert (fill.exec_fee, fill.fee_rate) == (D("0.0598"), D("0.0002"))
    assert one(events, OrderFilled).order.status is OrderStatus.FILLED
    assert sim.engine.open_orders("acc") == []
    assert sim.view().order_im == 0
    assert sim.view().wallet_balance == D("9999.9402")


def test_a_sell_limit_fills_when_the_last_price_rises_to_it(sim: Sim) -> None:
    sim.tick("30000", bid="29999.9", ask="30000.1")
    sim.sell("0.01", price="30100")
    sim.advance(1000)
    (fill,) = fills(sim.tick("30100", bid="30099.9", ask="30100.1"))
    assert (fill.side, fill.exec_price, fill.is_maker) == (Side.SELL, D(30100), True)


def test_resting_orders_on_one_price_fill_first_in_first_out(sim: Sim) -> None:
    sim.open("other")
    sim.tick("30000", bid="29999.9", ask="30000.1")
    first = one(sim.buy("0.01", price="29900", account="other"), OrderAccepted).order.order_id
    second = one(sim.buy("0.02", price="29900"), OrderAccepted).order.order_id
    nearer = one(sim.buy("0.01", price="29950"), OrderAccepted).order.order_id
    sim.advance(1000)
    filled = [f.order_id for f in fills(sim.tick("29800"))]
    # Nearest to the price first (29,950), then the two at 29,900 in the order they arrived.
    assert filled == [nearer, first, second]


def test_a_trade_through_a_resting_limit_fills_it_as_maker(sim: Sim) -> None:
    sim.tick("30000", bid="29999.9", ask="30000.1")
    sim.buy("0.01", price="29900")
    sim.advance(1000)
    events = sim.engine.on_trade(Trade("BTCUSDT", D("29890"), D("0.5"), Side.SELL, ts=sim.clock()))
    (fill,) = fills(events)
    assert (fill.exec_price, fill.is_maker) == (D(29900), True)


def test_a_ticker_that_arrives_already_old_triggers_and_fills_nothing(sim: Sim) -> None:
    sim.tick("30000", bid="29999.9", ask="30000.1")
    sim.buy("0.01", price="29000")
    sim.buy("0.01", trigger_price="31000", trigger_direction=TriggerDirection.RISES_TO)
    sim.advance(60_000)
    # Stamped 31 s before the engine's clock: it passes both orders' prices but is never acted on.
    assert sim.tick("28000", ts=sim.clock() - 31_000) == []
    assert sim.tick("32000", ts=sim.clock() - 31_000) == []
    assert len(sim.engine.open_orders()) == 2


def test_a_buy_stop_waits_untriggered_then_fills_at_the_ask_when_the_price_rises_to_it(sim: Sim) -> None:
    sim.tick("30000", bid="29999.9", ask="30000.1")
    accepted = one(sim.buy("0.01", trigger_price="30500", trigger_direction=RISES), OrderAccepted).order
    assert accepted.status is OrderStatus.UNTRIGGERED
    assert sim.engine.order(accepted.order_id) == accepted
    # Conditional orders hold no margin until they trigger.
    assert sim.view().order_im == 0
    sim.advance(1000)
    assert sim.tick("30499.9", bid="30499.8", ask="30500") == []
    sim.advance(1000)
    events = sim.tick("30500", bid="30499.9", ask="30500.1")
    triggered = one(events, OrderTriggered).order
    assert (triggered.order_id, triggered.status) == (accepted.order_id, OrderStatus.TRIGGERED)
    (fill,) = fills(events)
    assert (fill.exec_price, fill.is_maker) == (D("30500.1"), False)
    assert one(events, OrderFilled).order.status is OrderStatus.FILLED
    assert sim.engine.order(accepted.order_id) is None


def test_a_sell_stop_triggers_when_the_price_falls_to_it_and_fills_at_the_bid(sim: Sim) -> None:
    sim.tick("30000", bid="29999.9", ask="30000.1")
    sim.sell("0.01", trigger_price="29500", trigger_direction=FALLS)
    sim.advance(1000)
    # A gap from 30,000 straight to 29,400 still triggers it; it fills at the bid it meets.
    events = sim.tick("29400", bid="29399.9", ask="29400.1")
    assert len(of_type(events, OrderTriggered)) == 1
    assert fills(events)[0].exec_price == D("29399.9")


def test_a_trigger_on_the_wrong_side_of_the_last_price_is_rejected(sim: Sim) -> None:
    sim.tick("30000", bid="29999.9", ask="30000.1")
    rejected = one(sim.buy("0.01", trigger_price="29500", trigger_direction=RISES), OrderRejected)
    assert isinstance(rejected.error, InvalidTrigger)
    assert rejected.error.message == (
        "triggerPrice 29500 must be above the last price 30000 for triggerDirection 1 (rises to)"
    )


def test_trigger_by_mark_price_ignores_the_last_price(sim: Sim) -> None:
    sim.tick("30000", bid="29999.9", ask="30000.1", mark="30000")
    by_mark = one(
        sim.sell("0.01", trigger_price="29500", trigger_direction=FALLS, trigger_by=TriggerBy.MARK_PRICE),
        OrderAccepted,
    ).order
    by_last = one(sim.sell("0.01", trigger_price="29500", trigger_direction=FALLS), OrderAccepted).order
    sim.advance(1000)
    # The last price dips to 29,400 but the mark stays at 29,600: only the last-price stop triggers.
    events = sim.tick("29400", bid="29399.9", ask="29400.1", mark="29600")
    assert [e.order.order_id for e in of_type(events, OrderTriggered)] == [by_last.order_id]
    sim.advance(1000)
    # Now the mark reaches 29,500 while the last price is back at 29,600: the mark-price stop triggers.
    events = sim.tick("29600", bid="29599.9", ask="29600.1", mark="29500")
    assert [e.order.order_id for e in of_type(events, OrderTriggered)] == [by_mark.order_id]
    assert fills(events)[0].exec_price == D("29599.9")


def test_a_conditional_limit_rests_at_its_price_after_the_trigger(sim: Sim) -> None:
    sim.tick("30000", bid="29999.9", ask="30000.1")
    order_id = one(
        sim.buy("0.01", price="30400", trigger_price="30500", trigger_direction=RISES), OrderAccepted
    ).order.order_id
    sim.advance(1000)
    # Triggered at 30,500 with the ask at 30,500.1: a buy at 30,400 is not marketable, so it rests as New.
    events = sim.tick("30500", bid="30499.9", ask="30500.1")
    assert one(events, OrderTriggered).order.order_id == order_id
    assert one(events, OrderAccepted).order.status is OrderStatus.NEW
    assert fills(events) == []
    resting = sim.engine.order(order_id)
    assert resting is not None
    assert resting.status is OrderStatus.NEW
    sim.advance(1000)
    (fill,) = fills(sim.tick("30400"))
    assert (fill.exec_price, fill.is_maker) == (D(30400), True)
