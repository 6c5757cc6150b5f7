"""Liquidation prices, their re-pricing, and the bankruptcy fill."""

from decimal import Decimal

from tests.unit.domain.conftest import Sim, fills, of_type, one
from tradesim.domain import (
    CancelOrder,
    CancelReason,
    ExecType,
    MarginMode,
    OrderAccepted,
    OrderCancelled,
    OrderStatus,
    PositionChanged,
    SetLeverage,
    Side,
    Transfer,
)

D = Decimal


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
