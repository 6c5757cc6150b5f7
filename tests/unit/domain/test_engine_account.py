"""Pre-trade margin, leverage, transfers, liquidation and funding."""

from decimal import Decimal

import pytest

from tests.unit.domain.conftest import T0, Sim, fills, ledger, of_type, one
from tradesim.domain import (
    CancelReason,
    CommandRejected,
    ExecType,
    LedgerKind,
    MarginMode,
    OrderAccepted,
    OrderCancelled,
    OrderRejected,
    OrderStatus,
    PositionChanged,
    SetLeverage,
    SettleFunding,
    Side,
    Transfer,
)
from tradesim.domain.errors import (
    DuplicateAccount,
    InsufficientBalance,
    InsufficientMargin,
    InvalidInput,
    LeverageOutOfRange,
    PositionOpen,
)

D = Decimal
HOUR = 3_600_000


# -- pre-trade margin ---------------------------------------------------------------------------


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


# -- leverage -----------------------------------------------------------------------------------


def test_leverage_changes_only_when_flat_and_within_the_instruments_range(sim: Sim) -> None:
    sim.tick("30000", bid="29999.9", ask="30000.1")
    for bad in ("0", "101"):
        rejected = one(sim.handle(SetLeverage("acc", "BTCUSDT", D(bad))), CommandRejected)
        assert isinstance(rejected.error, LeverageOutOfRange)
        assert rejected.error.message == f"leverage {bad} is outside BTCUSDT's range 1..100"
    changed = one(sim.handle(SetLeverage("acc", "BTCUSDT", D(25), MarginMode.ISOLATED)), PositionChanged).position
    assert (changed.leverage, changed.margin_mode) == (D(25), MarginMode.ISOLATED)
    # 0.01 at 30,000.1 with 25x: IM 300.001 / 25 = 12.00004.
    sim.buy("0.01")
    assert sim.view().position_im == D("12.00004")

    rejected = one(sim.handle(SetLeverage("acc", "BTCUSDT", D(5))), CommandRejected)
    assert isinstance(rejected.error, PositionOpen)
    assert rejected.error.message == (
        "close the BTCUSDT position and cancel its open orders before changing leverage or margin mode"
    )
    sim.sell("0.01")
    sim.buy("0.01", price="29000")  # a resting order blocks it too
    assert isinstance(one(sim.handle(SetLeverage("acc", "BTCUSDT", D(5))), CommandRejected).error, PositionOpen)
    assert sim.position().leverage == D(25)


# -- transfers ----------------------------------------------------------------------------------


def test_deposits_and_withdrawals_are_ledger_entries(sim: Sim) -> None:
    events = sim.handle(Transfer("acc", D("250.5"), "dep-1"))
    assert [(e.kind, e.amount, e.balance_after, e.ref_id) for e in ledger(events)] == [
        (LedgerKind.TRANSFER, D("250.5"), D("10250.5"), "dep-1")
    ]
    events = sim.handle(Transfer("acc", D("-10250.5"), "wd-1"))
    assert ledger(events)[0].balance_after == 0
    rejected = one(sim.handle(Transfer("acc", D("-0.01"), "wd-2")), CommandRejected)
    assert isinstance(rejected.error, InsufficientBalance)
    assert rejected.error.message == "cannot withdraw 0.01 USDT: only 0 USDT is available"
    zero = one(sim.handle(Transfer("acc", D(0), "nothing")), CommandRejected)
    assert isinstance(zero.error, InvalidInput)


def test_a_withdrawal_cannot_take_the_margin_of_open_positions(sim: Sim) -> None:
    sim.tick("30000", bid="30000", ask="30000")
    sim.buy("0.1")  # IM 300, fee 1.65: wallet 9,998.35
    sim.tick("29000", bid="29000", ask="29000")  # uPnL 0.1 x -1,000 = -100
    # available = 9,998.35 - 100 - 300 = 9,598.35
    assert sim.view().available_balance == D("9598.35")
    rejected = one(sim.handle(Transfer("acc", D("-9598.36"), "wd")), CommandRejected)
    assert rejected.error.message == "cannot withdraw 9598.36 USDT: only 9598.35 USDT is available"
    assert ledger(sim.handle(Transfer("acc", D("-9598.35"), "wd")))[0].balance_after == D(400)


def test_opening_the_same_account_twice_is_refused(sim: Sim) -> None:
    with pytest.raises(DuplicateAccount, match=r"^account 'acc' already exists$"):
        sim.open()


# -- liquidation --------------------------------------------------------------------------------


def test_isolated_short_is_liquidated_when_the_mark_rises_to_its_liquidation_price() -> None:
    sim = Sim()
    sim.open(balance="1000")
    sim.handle(SetLeverage("acc", "BTCUSDT", D(20), MarginMode.ISOLATED))
    sim.tick("30000", bid="30000", ask="30000.1")
    sim.sell("0.1", take_profit="29000")
    sim.buy("0.01", price="29500")  # a resting order on the same symbol
    # IM = 3,000 / 20 = 150, MM = 3,000 x 0.005 = 15:
    # LP = 30,000 + (150 - 15) / 0.1 = 31,350; bankruptcy = 30,000 + 150 / 0.1 = 31,500.
    position = sim.position()
    assert (position.liq_price, position.bust_price) == (D(31350), D(31500))
    sim.advance(1000)
    assert fills(sim.tick("31400", mark="31349.9")) == []
    sim.advance(1000)
    events = sim.tick("31400", mark="31350")
    # First the symbol's open orders go (the TP deactivated, the limit cancelled), then the bust trade.
    cancelled = {(e.order.status, e.reason) for e in of_type(events, OrderCancelled)}
    assert cancelled == {
        (OrderStatus.DEACTIVATED, CancelReason.LIQUIDATION),
        (OrderStatus.CANCELLED, CancelReason.LIQUIDATION),
    }
    (fill,) = fills(events)
    assert (fill.exec_type, fill.side, fill.exec_price, fill.exec_qty) == (
        ExecType.BUST_TRADE,
        Side.BUY,
        D(31500),
        D("0.1"),
    )
    # Loss 0.1 x (30,000 - 31,500) = -150: exactly the isolated margin.
    assert fill.exec_pnl == D(-150)
    # 1,000 - 1.65 open fee - 150 = 848.35
    assert sim.view().wallet_balance == D("848.35")
    assert sim.engine.open_orders() == []


def test_cross_position_uses_the_whole_free_balance_before_liquidation() -> None:
    sim = Sim()
    sim.open(balance="1000")
    sim.tick("30000", bid="30000", ask="30000")
    sim.buy("0.1")
    # Wallet 1,000 - 1.65 = 998.35; IM 300; free = 698.35; margin for the cross long = 300 + 698.35 = 998.35.
    # LP = (3,000 - 998.35 + 15) / 0.1 = 20,166.5; bankruptcy = (3,000 - 998.35) / 0.1 = 20,016.5.
    position = sim.position()
    assert (position.liq_price, position.bust_price) == (D("20166.5"), D("20016.5"))
    # A deposit of 500 moves both 5,000 lower.
    events = sim.handle(Transfer("acc", D(500), "dep"))
    position = one(events, PositionChanged).position
    assert (position.liq_price, position.bust_price) == (D("15166.5"), D("15016.5"))
    sim.advance(1000)
    events = sim.tick("15000", mark="15000")
    (fill,) = fills(events)
    assert (fill.exec_type, fill.exec_price) == (ExecType.BUST_TRADE, D("15016.5"))
    # Loss 0.1 x (15,016.5 - 30,000) = -1,498.35: the whole wallet.
    assert fill.exec_pnl == D("-1498.35")
    assert sim.view().wallet_balance == 0


def test_cross_liquidation_price_follows_the_margin_held_by_open_orders() -> None:
    from tradesim.domain import CancelOrder

    sim = Sim()
    sim.open(balance="1000")
    sim.tick("30000", bid="30000", ask="30000")
    sim.tick("2000", bid="2000", ask="2000", symbol="ETHUSDT")
    sim.buy("0.1")
    assert sim.position().liq_price == D("20166.5")  # as in the test above
    # An ETH buy limit of 2 at 1,900 holds 380 IM + 2.09 open fee + 2 x 1,710 x 0.00055 = 1.881 close fee
    # = 383.971 of the free balance: free 698.35 - 383.971 = 314.379, margin 300 + 314.379 = 614.379,
    # LP = (3,000 - 614.379 + 15) / 0.1 = 24,006.21 -> 24,006.3; bankruptcy 23,856.21 -> 23,856.3.
    events = sim.buy("2", price="1900", symbol="ETHUSDT")
    order_id = one(events, OrderAccepted).order.order_id
    position = one(events, PositionChanged).position
    assert (position.symbol, position.liq_price, position.bust_price) == ("BTCUSDT", D("24006.3"), D("23856.3"))
    # Cancelling the order gives the margin back to the position.
    events = sim.handle(CancelOrder("acc", order_id, "ETHUSDT"))
    assert one(events, PositionChanged).position.liq_price == D("20166.5")


def test_a_position_is_liquidated_once_even_if_the_mark_stays_below(sim: Sim) -> None:
    sim.handle(SetLeverage("acc", "BTCUSDT", D(50), MarginMode.ISOLATED))
    sim.tick("30000", bid="30000", ask="30000")
    sim.buy("0.01")
    sim.advance(1000)
    assert len(fills(sim.tick("29000"))) == 1
    sim.advance(1000)
    assert fills(sim.tick("28000")) == []


# -- funding ------------------------------------------------------------------------------------


def test_funding_settles_once_at_the_announced_time_longs_pay_when_positive() -> None:
    sim = Sim()
    sim.open("long")
    sim.open("short")
    funding_at = T0 + 8 * HOUR
    sim.tick("30000", bid="30000", ask="30000", funding_rate="0.0001", next_funding_time=funding_at)
    sim.buy("0.01", account="long")
    sim.sell("0.02", account="short")
    sim.clock.set(funding_at - 1)
    assert ledger(sim.tick("30500", funding_rate="0.0001", next_funding_time=funding_at)) == []
    sim.clock.set(funding_at)
    events = sim.tick("30500", mark="30400", funding_rate="0.0001", next_funding_time=funding_at)
    # size x mark x rate: long pays 0.01 x 30,400 x 0.0001 = 0.0304; short receives 0.02 x 30,400 x 0.0001 = 0.0608.
    assert {(e.account_id, e.kind, e.amount) for e in ledger(events)} == {
        ("long", LedgerKind.FUNDING, D("-0.0304")),
        ("short", LedgerKind.FUNDING, D("0.0608")),
    }
    # The next ticker, still announcing the time already settled, settles nothing.
    sim.advance(1000)
    assert ledger(sim.tick("30500", funding_rate="0.0001", next_funding_time=funding_at)) == []
    # The next period, with a negative rate: shorts pay, longs receive.
    nxt = funding_at + 8 * HOUR
    sim.tick("30500", funding_rate="-0.0002", next_funding_time=nxt)
    sim.clock.set(nxt)
    events = sim.tick("30000", funding_rate="-0.0002", next_funding_time=nxt + 8 * HOUR)
    # long receives 0.01 x 30,000 x 0.0002 = 0.06; short pays 0.02 x 30,000 x 0.0002 = 0.12.
    assert {(e.account_id, e.amount) for e in ledger(events)} == {("long", D("0.06")), ("short", D("-0.12"))}
    # Funding is realised PnL of the position.
    assert sim.position("long").cum_realised_pnl == D("-0.165") - D("0.0304") + D("0.06")


def test_settle_funding_command_for_replays() -> None:
    sim = Sim()
    sim.open()
    sim.tick("30000", bid="30000", ask="30000")
    sim.sell("0.01")
    events = sim.handle(SettleFunding("BTCUSDT", D("0.0001"), D(30000), funding_time=T0 + HOUR))
    # The short receives 0.01 x 30,000 x 0.0001 = 0.03.
    assert [(e.kind, e.amount) for e in ledger(events)] == [(LedgerKind.FUNDING, D("0.03"))]


def test_settle_funding_for_a_time_already_settled_changes_nothing() -> None:
    sim = Sim()
    sim.open()
    funding_at = T0 + HOUR
    sim.tick("30000", bid="30000", ask="30000", funding_rate="0.0001", next_funding_time=funding_at)
    sim.sell("0.01")
    settle = SettleFunding("BTCUSDT", D("0.0001"), D(30000), funding_time=funding_at)
    assert len(ledger(sim.handle(settle))) == 1
    # The same funding time again, by command or by the ticker that announced it, pays nothing more.
    assert sim.handle(settle) == []
    sim.clock.set(funding_at)
    assert ledger(sim.tick("30000", funding_rate="0.0001", next_funding_time=funding_at + 8 * HOUR)) == []
    assert sim.view().wallet_balance == D(10000) - D("0.165") + D("0.03")


def test_funding_is_settled_even_when_the_ticker_after_the_funding_time_arrives_late() -> None:
    sim = Sim()
    sim.open()
    funding_at = T0 + HOUR
    sim.tick("30000", bid="30000", ask="30000", funding_rate="0.0001", next_funding_time=funding_at)
    sim.buy("0.01")
    sim.clock.set(funding_at + 40_000)
    # Stamped at the funding time but handled 40 s later, beyond the 30 s staleness limit: too old to
    # trade on, yet the funding it marks is due: 0.01 x 30,000 x 0.0001 = 0.03 paid by the long.
    late = sim.tick("30000", ts=funding_at, funding_rate="0.0001", next_funding_time=funding_at + 8 * HOUR)
    assert [(e.kind, e.amount) for e in ledger(late)] == [(LedgerKind.FUNDING, D("-0.03"))]
    assert ledger(sim.tick("30000", funding_rate="0.0001", next_funding_time=funding_at + 8 * HOUR)) == []


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
