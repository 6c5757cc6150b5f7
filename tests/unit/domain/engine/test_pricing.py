"""Taker pricing: the slippage model, and the price funds are checked at."""

from decimal import Decimal

from tests.unit.domain.conftest import Sim, fills, one
from tradesim.domain import (
    Category,
    EngineConfig,
    FixedTickSlippage,
    OrderRejected,
)

D = Decimal
SPOT = Category.SPOT


def test_the_slippage_model_moves_taker_fills_away_from_the_touch() -> None:
    sim = Sim(config=EngineConfig(slippage=FixedTickSlippage(2)))
    sim.open()
    sim.tick("30000", bid="29999.9", ask="30000.1")
    # Two ticks of 0.1 beyond the touch: buy 30,000.1 + 0.2 = 30,000.3, sell 29,999.9 - 0.2 = 29,999.7.
    assert fills(sim.buy("0.01"))[0].exec_price == D("30000.3")
    assert fills(sim.sell("0.02"))[0].exec_price == D("29999.7")
    # A marketable limit order never pays more than its own price: the slipped 30,000.3 is capped at 30,000.2.
    assert fills(sim.buy("0.01", price="30000.2"))[0].exec_price == D("30000.2")


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
