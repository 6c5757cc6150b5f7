"""Executions: positions, spot balances, fees and the ledger after a fill."""

from decimal import Decimal

from tests.unit.domain.conftest import Sim, fills, ledger, of_type, one, spot_sim
from tradesim.domain import (
    Category,
    LedgerKind,
    OrderCancelled,
    PositionChanged,
)

D = Decimal
SPOT = Category.SPOT


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


def test_the_engine_reports_the_position_after_every_fill(sim: Sim) -> None:
    sim.tick("30000", bid="29999.9", ask="30000.1")
    events = sim.buy("0.01")
    position = one(events, PositionChanged).position
    assert (position.size, position.entry_value) == (D("0.01"), D("300.001"))
    assert of_type(events, OrderCancelled) == []


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
