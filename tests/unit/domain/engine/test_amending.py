"""The owner's cancel and amend of an open order."""

from decimal import Decimal

from tests.unit.domain.conftest import Sim, fills, one
from tradesim.domain import (
    AmendOrder,
    CancelOrder,
    CancelReason,
    CommandRejected,
    EngineConfig,
    FixedTickSlippage,
    OrderAccepted,
    OrderAmended,
    OrderCancelled,
    OrderStatus,
    TimeInForce,
    TriggerDirection,
)
from tradesim.domain.errors import (
    InsufficientMargin,
    InvalidInput,
    OrderNotOpen,
    PriceOffTick,
)

D = Decimal


def resting_buy(sim: Sim, price: str = "29000", qty: str = "0.01") -> str:
    sim.tick("30000", bid="29999.9", ask="30000.1")
    return one(sim.buy(qty, price=price), OrderAccepted).order.order_id


def test_cancel_a_resting_order_releases_its_margin(sim: Sim) -> None:
    order_id = resting_buy(sim)
    assert sim.view().order_im > 0
    events = sim.handle(CancelOrder("acc", order_id, "BTCUSDT"))
    cancelled = one(events, OrderCancelled)
    assert (cancelled.reason, cancelled.order.status, cancelled.order.cancel_type) == (
        CancelReason.BY_USER,
        OrderStatus.CANCELLED,
        "CancelByUser",
    )
    assert sim.view().order_im == 0
    assert sim.engine.order(order_id) is None
    # A cancelled order never fills.
    sim.advance(1000)
    assert fills(sim.tick("28000")) == []


def test_cancel_or_amend_of_an_order_that_is_not_open_is_refused(sim: Sim) -> None:
    order_id = resting_buy(sim)
    sim.handle(CancelOrder("acc", order_id, "BTCUSDT"))
    filled_id = one(sim.buy("0.01"), OrderAccepted).order.order_id
    for target in (order_id, filled_id, "no-such-order"):
        for command, name in (
            (CancelOrder("acc", target, "BTCUSDT"), "cancel"),
            (AmendOrder("acc", target, "BTCUSDT", price=D(29500)), "amend"),
        ):
            rejected = one(sim.handle(command), CommandRejected)
            assert (rejected.command, rejected.order_id) == (name, target)
            assert isinstance(rejected.error, OrderNotOpen)
            assert rejected.error.code == "ORDER_NOT_OPEN"
            assert rejected.error.message == f"order {target} is not open: it is filled, cancelled or unknown"


def test_nobody_cancels_another_accounts_order(sim: Sim) -> None:
    sim.open("mallory")
    order_id = resting_buy(sim)
    rejected = one(sim.handle(CancelOrder("mallory", order_id, "BTCUSDT")), CommandRejected)
    assert isinstance(rejected.error, OrderNotOpen)
    assert sim.engine.order(order_id) is not None


def test_cancel_an_untriggered_stop_deactivates_it(sim: Sim) -> None:
    sim.tick("30000", bid="29999.9", ask="30000.1")
    stop = one(sim.buy("0.01", trigger_price="31000", trigger_direction=TriggerDirection.RISES_TO), OrderAccepted)
    cancelled = one(sim.handle(CancelOrder("acc", stop.order.order_id, "BTCUSDT")), OrderCancelled)
    assert cancelled.order.status is OrderStatus.DEACTIVATED
    sim.advance(1000)
    assert fills(sim.tick("31500")) == []


def test_amend_price_and_qty_of_a_resting_limit(sim: Sim) -> None:
    order_id = resting_buy(sim, price="29000", qty="0.01")
    events = sim.handle(AmendOrder("acc", order_id, "BTCUSDT", price=D(29500), qty=D("0.02")))
    amended = one(events, OrderAmended).order
    assert (amended.order_id, amended.price, amended.qty, amended.status) == (
        order_id,
        D(29500),
        D("0.02"),
        OrderStatus.NEW,
    )
    # The held margin follows: IM 590 / 10 = 59, open fee 590 x 0.00055 = 0.3245,
    # close fee 0.02 x 26,550 x 0.00055 = 0.29205 -> 59.61655.
    assert sim.view().order_im == D("59.61655")
    sim.advance(1000)
    assert fills(sim.tick("29600")) == []
    (fill,) = fills(sim.tick("29500"))
    assert (fill.exec_price, fill.exec_qty, fill.is_maker) == (D(29500), D("0.02"), True)


def test_amending_a_limit_across_the_book_fills_it_as_taker(sim: Sim) -> None:
    order_id = resting_buy(sim, price="29000")
    events = sim.handle(AmendOrder("acc", order_id, "BTCUSDT", price=D(30100)))
    assert one(events, OrderAmended).order.price == D(30100)
    (fill,) = fills(events)
    assert (fill.exec_price, fill.is_maker) == (D("30000.1"), False)
    assert sim.engine.order(order_id) is None


def test_an_amend_that_breaks_a_rule_changes_nothing(sim: Sim) -> None:
    order_id = resting_buy(sim, price="29000")
    rejected = one(sim.handle(AmendOrder("acc", order_id, "BTCUSDT", price=D("29000.05"))), CommandRejected)
    assert isinstance(rejected.error, PriceOffTick)
    rejected = one(sim.handle(AmendOrder("acc", order_id, "BTCUSDT", trigger_price=D(31000))), CommandRejected)
    assert isinstance(rejected.error, InvalidInput)
    assert rejected.error.message == "only an untriggered conditional order has a trigger price to amend"
    # 10 BTC at 29,000 with 10x needs ~29,000 of margin; the account has 10,000.
    rejected = one(sim.handle(AmendOrder("acc", order_id, "BTCUSDT", qty=D(10))), CommandRejected)
    assert isinstance(rejected.error, InsufficientMargin)
    order = sim.engine.order(order_id)
    assert order is not None
    assert (order.price, order.qty) == (D(29000), D("0.01"))
    # The order still works after the refused amends.
    sim.advance(1000)
    assert fills(sim.tick("29000"))[0].exec_qty == D("0.01")


def test_amend_qty_must_exceed_what_already_filled() -> None:

    sim = Sim(config=EngineConfig(cap_taker_fills_to_book_size=True))
    sim.open()
    sim.tick("30000", bid="29999.9", ask="30000.1", ask_size="0.004", bid_size="1")
    # GTC buy at 30,100: 0.004 fills against the displayed size, the other 0.006 rests at 30,100.
    events = sim.buy("0.01", price="30100")
    order_id = one(events, OrderAccepted).order.order_id
    order = sim.engine.order(order_id)
    assert order is not None
    assert (order.status, order.cum_exec_qty) == (OrderStatus.PARTIALLY_FILLED, D("0.004"))
    rejected = one(sim.handle(AmendOrder("acc", order_id, "BTCUSDT", qty=D("0.004"))), CommandRejected)
    assert rejected.error.message == "qty 0.004 must exceed the 0.004 already filled"


def test_amend_the_trigger_of_an_untriggered_stop(sim: Sim) -> None:
    sim.tick("30000", bid="29999.9", ask="30000.1")
    order_id = one(
        sim.buy("0.01", trigger_price="31000", trigger_direction=TriggerDirection.RISES_TO), OrderAccepted
    ).order.order_id
    amended = one(sim.handle(AmendOrder("acc", order_id, "BTCUSDT", trigger_price=D(30500))), OrderAmended).order
    assert (amended.trigger_price, amended.status) == (D(30500), OrderStatus.UNTRIGGERED)
    sim.advance(1000)
    assert fills(sim.tick("30500", bid="30499.9", ask="30500.1"))[0].exec_price == D("30500.1")


def test_a_post_only_amended_across_the_book_is_refused_and_keeps_resting(sim: Sim) -> None:
    from tradesim.domain.errors import PostOnlyWouldTake

    sim.tick("30000", bid="29999.9", ask="30000.1")
    order_id = one(sim.buy("0.01", price="29000", time_in_force=TimeInForce.POST_ONLY), OrderAccepted).order.order_id
    events = sim.handle(AmendOrder("acc", order_id, "BTCUSDT", price=D(30100)))
    assert fills(events) == []
    rejected = one(events, CommandRejected)
    assert isinstance(rejected.error, PostOnlyWouldTake)
    assert rejected.error.message == "a PostOnly Buy at 30100 would take liquidity: the best ask is 30000.1"
    order = sim.engine.order(order_id)
    assert order is not None
    assert (order.price, order.status) == (D(29000), OrderStatus.NEW)
    # Amended to a price below the ask it is fine, and fills later as maker.
    assert one(sim.handle(AmendOrder("acc", order_id, "BTCUSDT", price=D(30000))), OrderAmended).order.price == 30000
    sim.advance(1000)
    (fill,) = fills(sim.tick("29999"))
    assert (fill.exec_price, fill.is_maker) == (D(30000), True)


def test_an_amend_across_the_book_pays_the_same_slippage_as_a_new_order() -> None:

    sim = Sim(config=EngineConfig(slippage=FixedTickSlippage(3)))
    sim.open()
    order_id = resting_buy(sim, price="29000")
    # ask 30,000.1 + 3 ticks of 0.1 = 30,000.4, within the new limit of 30,100.
    (fill,) = fills(sim.handle(AmendOrder("acc", order_id, "BTCUSDT", price=D(30100))))
    assert fill.exec_price == D("30000.4")
    # Capped by the limit price: amended to 30,000.2, the slipped 30,000.4 becomes 30,000.2.
    order_id = resting_buy(sim, price="29000")
    (fill,) = fills(sim.handle(AmendOrder("acc", order_id, "BTCUSDT", price=D("30000.2"))))
    assert fill.exec_price == D("30000.2")
