"""Prices too old to trade on, and spot trading."""

from decimal import Decimal

from tests.unit.domain.conftest import Sim, fills, ledger, one
from tradesim.domain import (
    Category,
    FeedStatus,
    LedgerKind,
    OrderAccepted,
    OrderRejected,
    Side,
    TimeInForce,
    Trade,
    TriggerDirection,
)
from tradesim.domain.errors import InsufficientBalance, NoMarketPrice, StalePrice

D = Decimal
SPOT = Category.SPOT


# -- staleness ----------------------------------------------------------------------------------


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


def test_a_ticker_that_arrives_already_old_triggers_and_fills_nothing(sim: Sim) -> None:
    sim.tick("30000", bid="29999.9", ask="30000.1")
    sim.buy("0.01", price="29000")
    sim.buy("0.01", trigger_price="31000", trigger_direction=TriggerDirection.RISES_TO)
    sim.advance(60_000)
    # Stamped 31 s before the engine's clock: it passes both orders' prices but is never acted on.
    assert sim.tick("28000", ts=sim.clock() - 31_000) == []
    assert sim.tick("32000", ts=sim.clock() - 31_000) == []
    assert len(sim.engine.open_orders()) == 2


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


def test_a_trade_through_a_resting_limit_fills_it_as_maker(sim: Sim) -> None:
    sim.tick("30000", bid="29999.9", ask="30000.1")
    sim.buy("0.01", price="29900")
    sim.advance(1000)
    events = sim.engine.on_trade(Trade("BTCUSDT", D("29890"), D("0.5"), Side.SELL, ts=sim.clock()))
    (fill,) = fills(events)
    assert (fill.exec_price, fill.is_maker) == (D(29900), True)


# -- spot ---------------------------------------------------------------------------------------


def spot_sim() -> Sim:
    sim = Sim()
    sim.open(balance="1000")
    sim.tick("30000", bid="29999.99", ask="30000.01", symbol="BTCUSDT", category=SPOT)
    return sim


def test_a_spot_buy_swaps_usdt_for_btc_and_takes_the_fee_in_btc() -> None:
    sim = spot_sim()
    events = sim.buy("0.01", category=SPOT)
    (fill,) = fills(events)
    # Pays 0.01 x 30,000.01 = 300.0001 USDT, receives 0.01 BTC less the 0.1% fee of 0.00001 BTC.
    assert (fill.exec_price, fill.exec_fee, fill.fee_coin) == (D("30000.01"), D("0.00001"), "BTC")
    assert [(e.coin, e.kind, e.amount) for e in ledger(events)] == [
        ("USDT", LedgerKind.TRADE, D("-300.0001")),
        ("BTC", LedgerKind.TRADE, D("0.01")),
        ("BTC", LedgerKind.FEE, D("-0.00001")),
    ]
    assert sim.engine.balances("acc") == {"USDT": D("699.9999"), "BTC": D("0.00999")}
    # Spot has no position.
    assert sim.engine.position("acc", "BTCUSDT") is None


def test_a_spot_sell_swaps_btc_for_usdt_and_takes_the_fee_in_usdt() -> None:
    sim = spot_sim()
    sim.buy("0.01", category=SPOT)
    events = sim.sell("0.005", category=SPOT)
    # Receives 0.005 x 29,999.99 = 149.99995 USDT less 0.1% = 0.14999995: 149.84995005 net.
    assert [(e.coin, e.amount) for e in ledger(events)] == [
        ("BTC", D("-0.005")),
        ("USDT", D("149.99995")),
        ("USDT", D("-0.14999995")),
    ]
    assert sim.engine.balances("acc") == {"USDT": D("849.84985005"), "BTC": D("0.00499")}


def test_spot_orders_need_the_coin_they_spend() -> None:
    sim = spot_sim()
    # 0.04 BTC at the ask is 1,200.0004 USDT; the account has 1,000.
    rejected = one(sim.buy("0.04", category=SPOT), OrderRejected)
    assert isinstance(rejected.error, InsufficientBalance)
    assert rejected.error.code == "INSUFFICIENT_BALANCE"
    assert rejected.error.message == "order needs 1200.0004 USDT but only 1000 USDT is available"
    rejected = one(sim.sell("0.001", category=SPOT), OrderRejected)
    assert rejected.error.message == "order needs 0.001 BTC but only 0 BTC is available"
    assert sim.engine.balances("acc") == {"USDT": D(1000)}


def test_a_resting_spot_order_holds_back_what_it_will_spend() -> None:
    sim = spot_sim()
    # A buy of 0.02 at 29,000 holds 580 USDT; another for 0.02 (580 more) does not fit in the 420 left.
    one(sim.buy("0.02", price="29000", category=SPOT), OrderAccepted)
    rejected = one(sim.buy("0.02", price="29000", category=SPOT), OrderRejected)
    assert rejected.error.message == "order needs 580 USDT but only 420 USDT is available"
    sim.advance(1000)
    (fill,) = fills(sim.tick("28990", symbol="BTCUSDT", category=SPOT))
    # Maker fill at 29,000: pays 580 USDT, gets 0.02 BTC less 0.1% = 0.00002.
    assert (fill.exec_price, fill.is_maker, fill.exec_fee) == (D(29000), True, D("0.00002"))
    assert sim.engine.balances("acc") == {"USDT": D(420), "BTC": D("0.01998")}


def test_funds_are_checked_at_the_slipped_price_so_a_balance_never_goes_negative() -> None:
    from tradesim.domain import EngineConfig, FixedTickSlippage

    sim = Sim(config=EngineConfig(slippage=FixedTickSlippage(100)))
    sim.open(balance="300.0001")
    sim.tick("30000", bid="29999.99", ask="30000.01", category=SPOT)
    # At the ask, 0.01 BTC costs 300.0001, exactly the balance; 100 ticks of 0.01 of slippage make it
    # 0.01 x 30,001.01 = 300.0101, which the account does not have.
    rejected = one(sim.buy("0.01", category=SPOT), OrderRejected)
    assert rejected.error.message == "order needs 300.0101 USDT but only 300.0001 USDT is available"
    assert sim.engine.balances("acc") == {"USDT": D("300.0001")}
    (fill,) = fills(sim.buy("0.009", category=SPOT))
    # 0.009 x 30,001.01 = 270.00909 spent; 300.0001 - 270.00909 = 29.99101 left.
    assert fill.exec_price == D("30001.01")
    assert sim.engine.balances("acc")["USDT"] == D("29.99101")


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
