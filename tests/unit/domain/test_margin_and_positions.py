"""Margin arithmetic and one-way positions, with the numbers worked out by hand."""

from decimal import Decimal

import attrs
import pytest

from tradesim.domain import InvalidInput, Position, Side
from tradesim.domain.margin import (
    bankruptcy_price_at_entry,
    initial_margin,
    liquidation_prices,
    maintenance_margin,
    order_cost,
    unrealised_pnl,
)

D = Decimal
TICK = D("0.1")


def test_initial_and_maintenance_margin() -> None:
    # 1 BTC at 20,000 with 50x: IM = 20,000 / 50 = 400; MM at 0.5% = 20,000 x 0.005 = 100.
    assert initial_margin(D(20000), D(50)) == D(400)
    assert maintenance_margin(D(20000), D("0.005")) == D(100)
    # IM out of a division keeps 8 decimals: 100 / 3 = 33.33333333.
    assert initial_margin(D(100), D(3)) == D("33.33333333")


def test_bankruptcy_price_at_entry() -> None:
    # 50x: a long goes bust 1/50 = 2% below entry, a short 2% above.
    assert bankruptcy_price_at_entry(Side.BUY, D(10000), D(50)) == D(9800)
    assert bankruptcy_price_at_entry(Side.SELL, D(10000), D(50)) == D(10200)


def test_order_cost_of_a_short() -> None:
    # Short 1 BTC at 10,000, 50x, taker 0.075%: IM 200 + open fee 10,000 x 0.00075 = 7.5
    # + close fee at the bankruptcy price 10,200 x 0.00075 = 7.65 -> 215.15.
    assert order_cost(Side.SELL, D(1), D(10000), D(50), D("0.00075")) == D("215.15")


def test_liquidation_and_bankruptcy_price_of_a_short() -> None:
    # Short 1 BTC at 20,000 with margin 400, MMR 0.5%: LP = 20,000 + (400 - 100) = 20,300,
    # bankruptcy = 20,000 + 400 = 20,400.
    assert liquidation_prices(Side.SELL, D(1), D(20000), D(400), D("0.005"), TICK) == (D(20300), D(20400))


def test_liquidation_prices_round_toward_the_entry() -> None:
    # Long 0.003 BTC at 30,000.1 (value 90.0003) with 10x margin 9.00003, MM 0.4500015:
    # LP = (90.0003 - 9.00003 + 0.4500015) / 0.003 = 27,150.0905 -> up to the tick: 27,150.1
    # bust = (90.0003 - 9.00003) / 0.003 = 27,000.09 -> up: 27,000.1 (the loss stays within the margin).
    liq, bust = liquidation_prices(Side.BUY, D("0.003"), D("90.0003"), D("9.00003"), D("0.005"), TICK)
    assert (liq, bust) == (D("27150.1"), D("27000.1"))
    assert D("0.003") * (D("30000.1") - bust) <= D("9.00003")
    # Short 0.003 at 30,000.1: LP = (90.0003 + 9.00003 - 0.4500015) / 0.003 = 32,850.1095 -> down: 32,850.1;
    # bust = 99.00033 / 0.003 = 33,000.11 -> down: 33,000.1.
    liq, bust = liquidation_prices(Side.SELL, D("0.003"), D("90.0003"), D("9.00003"), D("0.005"), TICK)
    assert (liq, bust) == (D("32850.1"), D("33000.1"))


def test_a_long_that_cannot_be_liquidated_has_no_liquidation_price() -> None:
    # Margin 20,500 on a 20,000 long: even at a price of zero it keeps 500 - 100 MM > 0.
    assert liquidation_prices(Side.BUY, D(1), D(20000), D(20500), D("0.005"), TICK) == (None, None)
    assert liquidation_prices(Side.BUY, D(0), D(0), D(1), D("0.005"), TICK) == (None, None)


def test_unrealised_pnl_both_ways() -> None:
    assert unrealised_pnl(Side.BUY, D("0.2"), D(1400), D(7500)) == D(100)
    assert unrealised_pnl(Side.SELL, D("0.4"), D(2400), D(5000)) == D(400)
    assert unrealised_pnl(None, D(0), D(0), D(5000)) == 0


def flat() -> Position:
    return Position(account_id="acc", symbol="BTCUSDT")


def test_a_position_grows_and_keeps_its_cost_basis_exactly() -> None:
    position = flat().apply_fill(Side.BUY, D("0.001"), D("30000.1"), ts=1).position
    position = position.apply_fill(Side.BUY, D("0.002"), D("30000.2"), ts=2).position
    # entry value 30.0001 + 60.0004 = 90.0005; average 90.0005 / 0.003 = 30,000.1666...
    assert (position.side, position.size, position.entry_value) == (Side.BUY, D("0.003"), D("90.0005"))
    assert position.avg_price == D("90.0005") / D("0.003")
    assert position.created_time == 1
    assert position.updated_time == 2
    # 10x: position margin 90.0005 / 10 = 9.00005.
    assert position.position_margin == D("9.00005")


def test_partial_closes_round_once_and_the_round_trip_pnl_is_exact() -> None:
    position = flat().apply_fill(Side.BUY, D("0.001"), D("30000.1"), ts=1).position
    position = position.apply_fill(Side.BUY, D("0.002"), D("30000.2"), ts=1).position
    # Close a third at 30,000: basis 90.0005 / 3 = 30.00016666.. -> 30.00016667; PnL 30 - 30.00016667.
    first = position.apply_fill(Side.SELL, D("0.001"), D(30000), ts=2)
    assert (first.closed_qty, first.realised_pnl) == (D("0.001"), D("-0.00016667"))
    assert first.position.entry_value == D("60.00033333")
    # Close the rest at 30,000: the whole remaining basis goes, so the total is exact:
    # -0.00016667 + (60 - 60.00033333) = -0.0005 = 90 - 90.0005.
    second = first.position.apply_fill(Side.SELL, D("0.002"), D(30000), ts=3)
    assert second.realised_pnl == D("-0.00033333")
    assert first.realised_pnl + second.realised_pnl == D(90) - D("90.0005")
    assert second.position.side is None
    assert second.position.size == 0


def test_a_fill_larger_than_the_position_flips_it_and_drops_its_tp_sl() -> None:
    long = attrs.evolve(
        flat().apply_fill(Side.BUY, D("0.01"), D(30000), ts=1).position, take_profit=D(32000), stop_loss=D(29000)
    )
    outcome = long.apply_fill(Side.SELL, D("0.03"), D(31000), ts=2)
    # Closes 0.01 long for 0.01 x (31,000 - 30,000) = +10, then opens 0.02 short at 31,000 (value 620).
    assert (outcome.closed_qty, outcome.realised_pnl) == (D("0.01"), D(10))
    after = outcome.position
    assert (after.side, after.size, after.entry_value) == (Side.SELL, D("0.02"), D(620))
    assert (after.take_profit, after.stop_loss) == (None, None)
    assert after.created_time == 2


def test_closing_a_position_clears_tp_sl_and_liquidation_prices_but_keeps_leverage() -> None:
    opened = flat().apply_fill(Side.SELL, D("0.01"), D(30000), ts=1).position
    opened = attrs.evolve(opened, leverage=D(25), take_profit=D(29000), liq_price=D(31000), bust_price=D(31100))
    closed = opened.apply_fill(Side.BUY, D("0.01"), D(29500), ts=2)
    assert closed.realised_pnl == D(5)  # 0.01 x (30,000 - 29,500)
    position = closed.position
    assert (position.side, position.size, position.entry_value) == (None, 0, 0)
    assert (position.take_profit, position.liq_price, position.bust_price) == (None, None, None)
    assert position.leverage == D(25)


def test_position_invariants_are_checked_when_built() -> None:
    with pytest.raises(InvalidInput, match="position size must not be negative"):
        Position(account_id="a", symbol="BTCUSDT", side=Side.BUY, size=D(-1))
    with pytest.raises(InvalidInput, match="a position has a side exactly when its size is not zero"):
        Position(account_id="a", symbol="BTCUSDT", side=Side.BUY, size=D(0))
    with pytest.raises(InvalidInput, match="a position has a side exactly when its size is not zero"):
        Position(account_id="a", symbol="BTCUSDT", side=None, size=D(1))
    with pytest.raises(InvalidInput, match="fill qty must be positive"):
        flat().apply_fill(Side.BUY, D(0), D(30000), ts=1)
