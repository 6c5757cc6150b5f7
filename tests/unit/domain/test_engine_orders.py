"""Market, Limit, IOC, FOK and PostOnly orders through the engine, with the fill arithmetic written out.

The bundled BTCUSDT perpetual: tick 0.1, lot 0.001, maker 0.02%, taker 0.055%, default leverage 10x.
"""

from decimal import Decimal

from tests.unit.domain.conftest import Sim, fills, ledger, of_type, one
from tradesim.domain import (
    CancelReason,
    EngineConfig,
    FixedTickSlippage,
    LedgerKind,
    OrderAccepted,
    OrderCancelled,
    OrderFilled,
    OrderStatus,
    PositionChanged,
    Side,
    TimeInForce,
)

D = Decimal


def test_a_market_buy_fills_at_the_ask_as_taker(sim: Sim) -> None:
    sim.tick("30000", bid="29999.9", ask="30000.1")
    events = sim.buy("0.01")
    assert [type(e).__name__ for e in events] == ["OrderAccepted", "OrderFilled", "BalanceChanged", "PositionChanged"]
    (fill,) = fills(events)
    assert (fill.side, fill.exec_price, fill.exec_qty, fill.is_maker) == (Side.BUY, D("30000.1"), D("0.01"), False)
    # value 0.01 x 30,000.1 = 300.001; taker fee 300.001 x 0.00055 = 0.16500055.
    assert (fill.exec_fee, fill.fee_rate) == (D("0.16500055"), D("0.00055"))
    assert [(e.kind, e.amount) for e in ledger(events)] == [(LedgerKind.FEE, D("-0.16500055"))]
    order = one(events, OrderFilled).order
    assert (order.status, order.time_in_force, order.avg_price) == (OrderStatus.FILLED, TimeInForce.IOC, D("30000.1"))
    view = sim.view()
    assert view.wallet_balance == D("9999.83499945")  # 10,000 - 0.16500055
    # Marked at 30,000 the long is 0.01 x (30,000 - 30,000.1) = -0.001 under water.
    assert view.unrealised_pnl == D("-0.001")
    assert view.position_im == D("30.0001")  # 300.001 / 10x
    position = sim.position()
    assert (position.side, position.size, position.avg_price) == (Side.BUY, D("0.01"), D("30000.1"))


def test_a_market_sell_fills_at_the_bid(sim: Sim) -> None:
    sim.tick("30000", bid="29999.9", ask="30000.1")
    (fill,) = fills(sim.sell("0.01"))
    # 0.01 x 29,999.9 = 299.999; fee 299.999 x 0.00055 = 0.16499945.
    assert (fill.side, fill.exec_price, fill.exec_fee) == (Side.SELL, D("29999.9"), D("0.16499945"))
    assert sim.position().side is Side.SELL


def test_the_slippage_model_moves_taker_fills_away_from_the_touch() -> None:
    sim = Sim(config=EngineConfig(slippage=FixedTickSlippage(2)))
    sim.open()
    sim.tick("30000", bid="29999.9", ask="30000.1")
    # Two ticks of 0.1 beyond the touch: buy 30,000.1 + 0.2 = 30,000.3, sell 29,999.9 - 0.2 = 29,999.7.
    assert fills(sim.buy("0.01"))[0].exec_price == D("30000.3")
    assert fills(sim.sell("0.02"))[0].exec_price == D("29999.7")
    # A marketable limit order never pays more than its own price: the slipped 30,000.3 is capped at 30,000.2.
    assert fills(sim.buy("0.01", price="30000.2"))[0].exec_price == D("30000.2")


def test_a_round_trip_realises_price_pnl_minus_both_fees(sim: Sim) -> None:
    sim.tick("30000", bid="29999.9", ask="30000.1")
    sim.buy("0.01")
    sim.advance(1000)
    sim.tick("31000", bid="30999.9", ask="31000.1")
    events = sim.sell("0.01")
    (fill,) = fills(events)
    # Exit 0.01 x 30,999.9 = 309.999; PnL 309.999 - 300.001 = 9.998; fee 309.999 x 0.00055 = 0.17049945.
    assert (fill.closed_size, fill.exec_pnl, fill.exec_fee) == (D("0.01"), D("9.998"), D("0.17049945"))
    assert [(e.kind, e.amount) for e in ledger(events)] == [
        (LedgerKind.REALISED_PNL, D("9.998")),
        (LedgerKind.FEE, D("-0.17049945")),
    ]
    # 10,000 - 0.16500055 + 9.998 - 0.17049945 = 10,009.6625
    assert sim.view().wallet_balance == D("10009.6625")
    assert sim.position().cum_realised_pnl == D("9.6625")


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


def test_a_marketable_limit_fills_at_the_book_as_taker(sim: Sim) -> None:
    sim.tick("30000", bid="29999.9", ask="30000.1")
    # A buy limit at 30,100 is above the ask of 30,000.1: it takes the ask (the better price).
    (fill,) = fills(sim.buy("0.01", price="30100"))
    assert (fill.exec_price, fill.is_maker, fill.fee_rate) == (D("30000.1"), False, D("0.00055"))
    # A sell limit at 29,000 takes the bid of 29,999.9.
    (fill,) = fills(sim.sell("0.01", price="29000"))
    assert (fill.exec_price, fill.is_maker) == (D("29999.9"), False)


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


def test_ioc_fills_what_it_can_and_cancels_the_rest() -> None:
    sim = Sim(config=EngineConfig(cap_taker_fills_to_book_size=True))
    sim.open()
    sim.tick("30000", bid="29999.9", ask="30000.1", bid_size="1", ask_size="0.004")
    events = sim.buy("0.01", price="30100", time_in_force=TimeInForce.IOC)
    # Only 0.004 is offered at the ask: that fills, the other 0.006 is cancelled.
    (fill,) = fills(events)
    assert (fill.exec_qty, fill.exec_price) == (D("0.004"), D("30000.1"))
    cancelled = one(events, OrderCancelled)
    assert cancelled.reason is CancelReason.IOC_REMAINDER
    assert (cancelled.order.status, cancelled.order.cum_exec_qty) == (OrderStatus.CANCELLED, D("0.004"))
    assert cancelled.order.remaining_qty == D("0.006")
    assert sim.position().size == D("0.004")
    assert sim.engine.open_orders() == []


def test_a_gtc_remainder_that_still_crosses_the_book_takes_the_next_tickers_size_not_its_own_price() -> None:
    sim = Sim(config=EngineConfig(cap_taker_fills_to_book_size=True))
    sim.open()
    sim.tick("30000", bid="29999.9", ask="30000.1", bid_size="1", ask_size="0.004")
    # GTC buy 0.01 at 30,100: takes the 0.004 shown at 30,000.1; the other 0.006 still crosses the book.
    order_id = one(sim.buy("0.01", price="30100"), OrderAccepted).order.order_id
    assert sim.position().size == D("0.004")
    # The next ticker shows 0.004 more at 30,000.2: the remainder takes that, as taker, not its own 30,100.
    sim.advance(1000)
    (fill,) = fills(sim.tick("30000", bid="29999.9", ask="30000.2", bid_size="1", ask_size="0.004"))
    assert (fill.order_id, fill.exec_qty, fill.exec_price, fill.is_maker) == (order_id, D("0.004"), D("30000.2"), False)
    # The ask moves above 30,100: the last 0.002 now rests at 30,100 as an ordinary order...
    sim.advance(1000)
    assert fills(sim.tick("30150", bid="30149.9", ask="30150.1", bid_size="1", ask_size="1")) == []
    # ...and fills as maker at its own price when the last price comes back to it.
    sim.advance(1000)
    (fill,) = fills(sim.tick("30100", bid="30099.9", ask="30100.1", bid_size="1", ask_size="1"))
    assert (fill.exec_qty, fill.exec_price, fill.is_maker) == (D("0.002"), D(30100), True)
    assert sim.position().size == D("0.01")


def test_a_non_marketable_ioc_is_cancelled_at_once(sim: Sim) -> None:
    sim.tick("30000", bid="29999.9", ask="30000.1")
    events = sim.buy("0.01", price="29000", time_in_force=TimeInForce.IOC)
    assert fills(events) == []
    assert one(events, OrderCancelled).reason is CancelReason.IOC_REMAINDER
    assert sim.engine.open_orders() == []


def test_a_market_order_larger_than_the_book_fills_the_book_and_cancels_the_rest() -> None:
    sim = Sim(config=EngineConfig(cap_taker_fills_to_book_size=True))
    sim.open()
    # bid size 0.0075 is cut to the lot grid: 0.007.
    sim.tick("30000", bid="29999.9", ask="30000.1", bid_size="0.0075", ask_size="1")
    events = sim.sell("0.01")
    assert fills(events)[0].exec_qty == D("0.007")
    assert one(events, OrderCancelled).order.cum_exec_qty == D("0.007")


def test_fok_is_all_or_nothing() -> None:
    sim = Sim(config=EngineConfig(cap_taker_fills_to_book_size=True))
    sim.open()
    sim.tick("30000", bid="29999.9", ask="30000.1", bid_size="1", ask_size="0.004")
    # 0.01 wanted, 0.004 offered: nothing fills, the whole order is cancelled.
    events = sim.buy("0.01", price="30100", time_in_force=TimeInForce.FOK)
    assert fills(events) == []
    cancelled = one(events, OrderCancelled)
    assert (cancelled.reason, cancelled.order.cum_exec_qty) == (CancelReason.FOK_UNFILLABLE, 0)
    assert sim.engine.position("acc", "BTCUSDT") is None or sim.position().size == 0
    # With 0.01 offered it fills completely.
    sim.tick("30000", bid="29999.9", ask="30000.1", bid_size="1", ask_size="0.01")
    events = sim.buy("0.01", price="30100", time_in_force=TimeInForce.FOK)
    (fill,) = fills(events)
    assert fill.exec_qty == D("0.01")
    assert one(events, OrderFilled).order.status is OrderStatus.FILLED
    # A FOK limit that is not marketable at all is cancelled too (it cannot fill now).
    events = sim.buy("0.01", price="29000", time_in_force=TimeInForce.FOK)
    assert fills(events) == []
    assert one(events, OrderCancelled).order.status is OrderStatus.CANCELLED


def test_post_only_is_cancelled_when_it_would_take(sim: Sim) -> None:
    sim.tick("30000", bid="29999.9", ask="30000.1")
    # A buy at the ask would take liquidity.
    events = sim.buy("0.01", price="30000.1", time_in_force=TimeInForce.POST_ONLY)
    assert fills(events) == []
    cancelled = one(events, OrderCancelled)
    assert cancelled.reason is CancelReason.POST_ONLY_WOULD_TAKE
    assert cancelled.order.cancel_type == "CancelByPostOnly"
    assert sim.view().order_im == 0
    # One tick below the ask it rests, and later fills as maker at its own price.
    resting = one(sim.buy("0.01", price="30000", time_in_force=TimeInForce.POST_ONLY), OrderAccepted).order
    assert resting.status is OrderStatus.NEW
    sim.advance(1000)
    (fill,) = fills(sim.tick("29990"))
    assert (fill.order_id, fill.exec_price, fill.is_maker) == (resting.order_id, D(30000), True)


def test_the_engine_reports_the_position_after_every_fill(sim: Sim) -> None:
    sim.tick("30000", bid="29999.9", ask="30000.1")
    events = sim.buy("0.01")
    position = one(events, PositionChanged).position
    assert (position.size, position.entry_value) == (D("0.01"), D("300.001"))
    assert of_type(events, OrderCancelled) == []


def test_a_redelivered_order_id_changes_nothing(sim: Sim) -> None:
    sim.tick("30000", bid="29999.9", ask="30000.1")
    first = sim.buy("0.01", price="29000", order_id="api-1")
    assert one(first, OrderAccepted).order.order_id == "api-1"
    assert sim.buy("0.01", price="29000", order_id="api-1") == []
    assert len(sim.engine.open_orders()) == 1
