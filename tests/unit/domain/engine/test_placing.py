"""How an order goes live: market and limit orders, time in force, redelivery, prices that are missing or stale."""

from decimal import Decimal

from tests.unit.domain.conftest import Sim, fills, ledger, one
from tradesim.domain import (
    CancelReason,
    EngineConfig,
    FeedStatus,
    LedgerKind,
    OrderAccepted,
    OrderCancelled,
    OrderFilled,
    OrderRejected,
    OrderStatus,
    Side,
    TimeInForce,
    Trade,
)
from tradesim.domain.errors import (
    NoMarketPrice,
    StalePrice,
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


def test_a_marketable_limit_fills_at_the_book_as_taker(sim: Sim) -> None:
    sim.tick("30000", bid="29999.9", ask="30000.1")
    # A buy limit at 30,100 is above the ask of 30,000.1: it takes the ask (the better price).
    (fill,) = fills(sim.buy("0.01", price="30100"))
    assert (fill.exec_price, fill.is_maker, fill.fee_rate) == (D("30000.1"), False, D("0.00055"))
    # A sell limit at 29,000 takes the bid of 29,999.9.
    (fill,) = fills(sim.sell("0.01", price="29000"))
    assert (fill.exec_price, fill.is_maker) == (D("29999.9"), False)


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


def test_a_redelivered_order_id_changes_nothing(sim: Sim) -> None:
    sim.tick("30000", bid="29999.9", ask="30000.1")
    first = sim.buy("0.01", price="29000", order_id="api-1")
    assert one(first, OrderAccepted).order.order_id == "api-1"
    assert sim.buy("0.01", price="29000", order_id="api-1") == []
    assert len(sim.engine.open_orders()) == 1


def test_no_market_price_before_the_first_ticker(sim: Sim) -> None:
    rejected = one(sim.buy("0.01"), OrderRejected)
    assert isinstance(rejected.error, NoMarketPrice)
    assert rejected.error.code == "NO_MARKET_PRICE"
    assert rejected.error.message == ("no market price for BTCUSDT yet; market, IOC, FOK and PostOnly orders need one")
    for tif in (TimeInForce.IOC, TimeInForce.FOK, TimeInForce.POST_ONLY):
        assert isinstance(one(sim.buy("0.01", price="30000", time_in_force=tif), OrderRejected).error, NoMarketPrice)


def test_a_price_older_than_the_limit_is_stale(sim: Sim) -> None:
    sim.tick("30000", bid="29999.9", ask="30000.1")
    # Exactly 30 s old is still usable (the default limit is 30,000 ms).
    sim.advance(30_000)
    assert len(fills(sim.buy("0.01"))) == 1
    sim.advance(1)
    rejected = one(sim.buy("0.01"), OrderRejected)
    assert isinstance(rejected.error, StalePrice)
    assert rejected.error.code == "STALE_PRICE"
    assert rejected.error.message == "the last BTCUSDT price is 30.0 s old, beyond the 30 s limit"
    # A fresh ticker makes it tradable again.
    sim.tick("30010", bid="30009.9", ask="30010.1")
    assert fills(sim.buy("0.01"))[0].exec_price == D("30010.1")


def test_a_feed_marked_stale_stops_taker_fills_until_a_fresh_ticker(sim: Sim) -> None:
    sim.tick("30000", bid="29999.9", ask="30000.1")
    sim.engine.on_feed_status(FeedStatus("BTCUSDT", stale=True, ts=sim.clock()))
    rejected = one(sim.buy("0.01"), OrderRejected)
    assert isinstance(rejected.error, StalePrice)
    assert rejected.error.message == (
        "the price feed for BTCUSDT is stale; orders that need the book wait until it recovers"
    )
    sim.advance(500)
    sim.tick("30000", bid="29999.9", ask="30000.1")
    assert len(fills(sim.buy("0.01"))) == 1


def test_public_trades_do_not_refresh_an_old_book(sim: Sim) -> None:
    sim.tick("30000", bid="29999.9", ask="30000.1")
    for _ in range(60):
        sim.clock.set(sim.clock() + 1000)
        sim.engine.on_trade(Trade("BTCUSDT", D("30000"), D("0.5"), Side.BUY, ts=sim.clock()))
    # The bid and ask are from a ticker a minute old: a market order must not take them.
    rejected = one(sim.buy("0.01"), OrderRejected)
    assert isinstance(rejected.error, StalePrice)


def test_a_limit_placed_before_any_price_meets_the_first_ticker_as_a_new_order(sim: Sim) -> None:
    # No price yet: a GTC buy at 35,000 and a sell at 25,000 can only rest.
    buy = one(sim.buy("0.01", price="35000"), OrderAccepted).order.order_id
    sell = one(sim.sell("0.01", price="25000"), OrderAccepted).order.order_id
    far = one(sim.buy("0.01", price="20000"), OrderAccepted).order.order_id
    # The first ticker shows 30,000: both crossing orders take the book as taker at the touch,
    # not at their own (much worse) prices. The one below the market keeps resting.
    events = sim.tick("30000", bid="29999.9", ask="30000.1")
    by_order = {f.order_id: (f.exec_price, f.is_maker) for f in fills(events)}
    assert by_order == {buy: (D("30000.1"), False), sell: (D("29999.9"), False)}
    assert [o.order_id for o in sim.engine.open_orders()] == [far]
    # Once it has seen the book it is an ordinary resting order: maker at its own price.
    sim.advance(1000)
    (fill,) = fills(sim.tick("19990"))
    assert (fill.order_id, fill.exec_price, fill.is_maker) == (far, D(20000), True)


def test_a_limit_placed_while_the_feed_is_stale_waits_for_a_fresh_book(sim: Sim) -> None:
    sim.tick("30000", bid="29999.9", ask="30000.1")
    sim.advance(60_000)
    order_id = one(sim.buy("0.01", price="31000"), OrderAccepted).order.order_id
    # A public trade at 29,000 does not fill it: the order has not met a book yet.
    assert fills(sim.engine.on_trade(Trade("BTCUSDT", D("29000"), D("1"), Side.SELL, ts=sim.clock()))) == []
    # The next fresh ticker does, as taker at its ask, far below the order's 31,000.
    (fill,) = fills(sim.tick("29000", bid="28999.9", ask="29000.1"))
    assert (fill.order_id, fill.exec_price, fill.is_maker) == (order_id, D("29000.1"), False)
