"""Pre-trade margin and balance: what an order must find available, what a resting order holds."""

from decimal import Decimal

from tests.unit.domain.conftest import Sim, fills, ledger, one, spot_sim
from tradesim.domain import (
    Category,
    CommandRejected,
    OrderAccepted,
    OrderRejected,
    Transfer,
)
from tradesim.domain.errors import (
    InsufficientBalance,
    InsufficientMargin,
)

D = Decimal
SPOT = Category.SPOT


def test_an_order_needing_more_margin_than_available_is_rejected_with_the_numbers() -> None:
    sim = Sim()
    sim.open(balance="100")
    sim.tick("30000", bid="29999.9", ask="30000.1")
    # 0.1 BTC at the ask 30,000.1 with 10x: IM 3,000.01 / 10 = 300.001; open fee 3,000.01 x 0.00055
    # = 1.6500055; close fee at bankruptcy 0.1 x 27,000.09 x 0.00055 = 1.48500495 -> 303.13601045.
    rejected = one(sim.buy("0.1"), OrderRejected)
    assert isinstance(rejected.error, InsufficientMargin)
    assert rejected.error.code == "INSUFFICIENT_MARGIN"
    assert rejected.error.message == (
        "order cost 303.13601045 USDT (initial margin plus fees to open and close) "
        "exceeds the available balance 100 USDT"
    )
    assert sim.view().wallet_balance == D(100)
    assert sim.engine.position("acc", "BTCUSDT") is None or sim.position().size == 0


def test_resting_orders_and_positions_use_up_the_available_balance() -> None:
    sim = Sim()
    sim.open(balance="1000")
    sim.tick("30000", bid="29999.9", ask="30000.1")
    # A buy limit of 0.3 at 30,000: IM 900 + open fee 4.95 + close fee 0.3 x 27,000 x 0.00055 = 4.455 -> 909.405.
    one(sim.buy("0.3", price="30000"), OrderAccepted)
    view = sim.view()
    assert view.order_im == D("909.405")
    assert view.available_balance == D("90.595")  # 1,000 - 909.405
    # A second order for 0.003 (cost 9.09405) fits, one for 0.03 (cost 90.9405) does not.
    one(sim.sell("0.003", price="31000"), OrderAccepted)
    rejected = one(sim.sell("0.03", price="31000"), OrderRejected)
    assert isinstance(rejected.error, InsufficientMargin)


def test_reducing_a_position_needs_no_margin() -> None:
    sim = Sim()
    sim.open(balance="40")
    sim.tick("30000", bid="30000", ask="30000")
    sim.buy("0.01")  # cost 30 + 0.165 + 0.1485 = 30.3135 of the 40
    # Selling 0.01 only closes the long: allowed whatever the available balance.
    fill = fills(sim.sell("0.01"))[0]
    assert fill.closed_size == D("0.01")
    # Back to a 0.01 long: wallet 40 - 3 x 0.165 of fees = 39.505, 39.505 - IM 30 = 9.505.
    sim.buy("0.01")
    # Selling 0.03 closes the 0.01 and opens a 0.02 short; only that part needs margin:
    # IM 600 / 10 = 60 + open fee 0.33 + close fee at the short's bankruptcy 0.02 x 33,000 x 0.00055 = 0.363 -> 60.693.
    rejected = one(sim.sell("0.03"), OrderRejected)
    assert isinstance(rejected.error, InsufficientMargin)
    assert rejected.error.message.startswith("order cost 60.693 USDT")
    assert rejected.error.message.endswith("exceeds the available balance 9.505 USDT")


def test_a_withdrawal_cannot_take_the_margin_of_open_positions(sim: Sim) -> None:
    sim.tick("30000", bid="30000", ask="30000")
    sim.buy("0.1")  # IM 300, fee 1.65: wallet 9,998.35
    sim.tick("29000", bid="29000", ask="29000")  # uPnL 0.1 x -1,000 = -100
    # available = 9,998.35 - 100 - 300 = 9,598.35
    assert sim.view().available_balance == D("9598.35")
    rejected = one(sim.handle(Transfer("acc", D("-9598.36"), "wd")), CommandRejected)
    assert rejected.error.message == "cannot withdraw 9598.36 USDT: only 9598.35 USDT is available"
    assert ledger(sim.handle(Transfer("acc", D("-9598.35"), "wd")))[0].balance_after == D(400)


def test_a_resting_order_holds_margin_once_the_position_it_would_close_is_gone(sim: Sim) -> None:
    """Short 0.001; a buy limit for 0.001 only closes it, so it holds nothing. When a market buy
    closes the short first, the resting buy would open a long: it must now hold that long's cost."""
    sim.tick("30000.0", bid="29999.9", ask="30000.0")
    sim.sell("0.001")
    sim.buy("0.001", price="29000.0")
    assert sim.view().order_im == 0
    sim.buy("0.001")
    # order cost at 29000, 10x, taker 0.055%: IM 2.9 + open fee 0.01595 + close fee at the
    # bankruptcy price 26100: 0.001 x 26100 x 0.00055 = 0.014355; in all 2.930305
    assert sim.view().order_im == Decimal("2.930305")


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
