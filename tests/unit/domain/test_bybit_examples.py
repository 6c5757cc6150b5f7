"""Worked examples from Bybit's own Help Center, reproduced through the margin functions and the engine.

- "Liquidation Price (USDT Contract)":
  https://www.bybit.com/en/help-center/article/Liquidation-Price-USDT-Contract
- "Order Cost (USDT Contract)":
  https://www.bybit.com/en/help-center/article/Order-Cost-USDT-Contract
- "P&L Calculations (USDT Contract)":
  https://www.bybit.com/en/help-center/article/Profit-Loss-calculations-USDT-Contract
"""

from decimal import Decimal

from tests.unit.domain.conftest import T0, Sim, btc_linear, fills, ledger, of_type, one
from tradesim.domain import (
    CreateType,
    ExecType,
    InstrumentCatalog,
    LedgerKind,
    MarginMode,
    OrderAccepted,
    OrderFilled,
    OrderRejected,
    OrderStatus,
    Position,
    SetLeverage,
    Side,
)
from tradesim.domain.errors import InsufficientMargin
from tradesim.domain.margin import initial_margin, liquidation_prices, maintenance_margin, order_cost

D = Decimal


# -- "Liquidation Price (USDT Contract)" --------------------------------------------------------
# Long 1 BTC at 20,000 USDT, 50x, maintenance margin rate 0.5%:
#   IM = 20,000 / 50 = 400;  MM = 20,000 x 0.5% = 100;  LP = 20,000 - (400 - 100) / 1 = 19,700.


def test_liquidation_price_example_with_the_margin_functions() -> None:
    assert initial_margin(D(20000), D(50)) == D(400)
    assert maintenance_margin(D(20000), D("0.005")) == D(100)
    liq, bust = liquidation_prices(Side.BUY, D(1), D(20000), D(400), D("0.005"), D("0.1"))
    assert liq == D(19700)
    # The bankruptcy price is where the whole 400 of margin is gone: 20,000 - 400 / 1 = 19,600.
    assert bust == D(19600)


def test_liquidation_price_example_through_the_engine() -> None:
    sim = Sim()
    sim.open(balance="10000")
    sim.handle(SetLeverage("acc", "BTCUSDT", D(50), MarginMode.ISOLATED))
    sim.tick("20000", bid="19999.9", ask="20000")
    sim.buy("1")
    position = sim.position()
    assert (position.size, position.avg_price, position.leverage) == (D(1), D(20000), D(50))
    assert position.position_margin == D(400)
    assert (position.liq_price, position.bust_price) == (D(19700), D(19600))
    # Taker fee to open: 20,000 x 0.055% = 11.
    assert sim.view().wallet_balance == D(10000) - D(11)

    # The mark price one tick above the liquidation price liquidates nothing.
    sim.advance(1000)
    assert sim.tick("19700.1", mark="19700.1") == []
    assert sim.position().size == D(1)

    # At the liquidation price the position closes at the bankruptcy price: the loss is exactly the
    # 400 of margin, with no fee on the bust trade.
    sim.advance(1000)
    events = sim.tick("19700.5", mark="19700")
    liquidation = one(events, OrderAccepted).order
    assert liquidation.create_type is CreateType.BY_LIQUIDATION
    assert liquidation.reduce_only
    (bust_fill,) = fills(events)
    assert bust_fill.exec_type is ExecType.BUST_TRADE
    assert (bust_fill.side, bust_fill.exec_qty, bust_fill.exec_price) == (Side.SELL, D(1), D(19600))
    assert bust_fill.exec_pnl == D(-400)
    assert bust_fill.exec_fee == 0
    assert [(e.kind, e.amount) for e in ledger(events)] == [(LedgerKind.REALISED_PNL, D(-400))]
    assert sim.position().size == 0
    # 10,000 - 11 (open fee) - 400 (margin lost) = 9,589.
    assert sim.view().wallet_balance == D(9589)


# -- "Order Cost (USDT Contract)" --------------------------------------------------------------
# Long 1 BTC at 10,000 with 50x, taker fee 0.075%:
#   IM = 10,000 / 50 = 200;  open fee = 10,000 x 0.075% = 7.5;
#   bankruptcy price = 10,000 x (1 - 1/50) = 9,800;  close fee = 9,800 x 0.075% = 7.35;
#   order cost = 200 + 7.5 + 7.35 = 214.85.


def test_order_cost_example_with_the_margin_function() -> None:
    assert order_cost(Side.BUY, D(1), D(10000), D(50), D("0.00075")) == D("214.85")


def old_fee_catalog() -> InstrumentCatalog:
    """BTCUSDT with the article's taker fee of 0.075% (Bybit's fee at the time of writing)."""
    return InstrumentCatalog([btc_linear(taker_fee_rate="0.00075", maker_fee_rate="0.00025")])


def test_order_cost_example_is_the_margin_the_engine_requires() -> None:
    refused = Sim(catalog=old_fee_catalog())
    refused.open(balance="214.84")
    refused.handle(SetLeverage("acc", "BTCUSDT", D(50)))
    refused.tick("10000", bid="9999.9", ask="10000")
    rejected = one(refused.buy("1"), OrderRejected)
    assert isinstance(rejected.error, InsufficientMargin)
    assert rejected.error.message == (
        "order cost 214.85 USDT (initial margin plus fees to open and close) exceeds the available balance 214.84 USDT"
    )

    enough = Sim(catalog=old_fee_catalog())
    enough.open(balance="214.85")
    enough.handle(SetLeverage("acc", "BTCUSDT", D(50)))
    enough.tick("10000", bid="9999.9", ask="10000")
    (fill,) = fills(enough.buy("1"))
    assert (fill.exec_price, fill.exec_fee) == (D(10000), D("7.5"))
    view = enough.view()
    # 214.85 - 7.5 open fee = 207.35 in the wallet; the position holds IM 200.
    assert view.wallet_balance == D("207.35")
    assert view.position_im == D(200)


# -- "P&L Calculations (USDT Contract)" --------------------------------------------------------


def test_average_entry_price_example() -> None:
    # 0.5 BTC at 5,000 then 0.3 BTC at 6,000: (2,500 + 1,800) / 0.8 = 5,375.
    sim = Sim()
    sim.open(balance="10000")
    sim.tick("5000", bid="4999.9", ask="5000")
    sim.buy("0.5")
    sim.tick("6000", bid="5999.9", ask="6000")
    sim.buy("0.3")
    position = sim.position()
    assert (position.size, position.entry_value, position.avg_price) == (D("0.8"), D(4300), D(5375))


def test_unrealised_pnl_examples() -> None:
    # Long 0.2 BTC at 7,000, price 7,500: 0.2 x (7,500 - 7,000) = +100.
    long = Position(account_id="b", symbol="BTCUSDT").apply_fill(Side.BUY, D("0.2"), D(7000), ts=T0).position
    assert long.unrealised_pnl(D(7500)) == D(100)
    # Short 0.4 BTC at 6,000, price 5,000: 0.4 x (6,000 - 5,000) = +400.
    short = Position(account_id="c", symbol="BTCUSDT").apply_fill(Side.SELL, D("0.4"), D(6000), ts=T0).position
    assert short.unrealised_pnl(D(5000)) == D(400)

    # The same long in the engine: the account's unrealised PnL follows the mark price.
    sim = Sim()
    sim.open(balance="10000")
    sim.tick("7000", bid="6999.9", ask="7000")
    sim.buy("0.2")
    sim.tick("7500", bid="7499.9", ask="7500.1", mark="7500")
    view = sim.view()
    assert view.unrealised_pnl == D(100)
    # equity = wallet + uPnL = (10,000 - 1,400 x 0.055% = 0.77 fee) + 100 = 10,099.23.
    assert view.equity == D("10099.23")


def test_closed_pnl_example_through_the_engine() -> None:
    """Short 0.4 BTC at 6,000 closed at 5,000 with taker fee 0.055% and 2.10 of funding paid.

    position PnL = 0.4 x (6,000 - 5,000) = 400
    open fee     = 0.4 x 6,000 x 0.055% = 1.32
    close fee    = 0.4 x 5,000 x 0.055% = 1.10
    funding      = 2.10 (here: rate -0.0875% at mark 6,000: 0.4 x 6,000 x 0.000875 = 2.10, shorts pay)
    closed PnL   = 400 - 1.32 - 1.10 - 2.10 = 395.48
    """
    sim = Sim()
    sim.open(balance="10000")
    funding_time = T0 + 8 * 3_600_000
    sim.tick("6000", bid="6000", ask="6000.1", funding_rate="-0.000875", next_funding_time=funding_time)
    (open_fill,) = fills(sim.sell("0.4"))
    assert (open_fill.exec_price, open_fill.exec_fee) == (D(6000), D("1.32"))

    sim.clock.set(funding_time)
    funding = ledger(sim.tick("6000", bid="6000", ask="6000.1", funding_rate="-0.000875"))
    assert [(e.kind, e.amount) for e in funding] == [(LedgerKind.FUNDING, D("-2.1"))]

    sim.advance(60_000)
    sim.tick("5000", bid="4999.9", ask="5000")
    close_events = sim.buy("0.4")
    (close_fill,) = fills(close_events)
    assert (close_fill.exec_price, close_fill.exec_fee) == (D(5000), D("1.1"))
    assert close_fill.exec_pnl == D(400)
    assert one(of_type(close_events, OrderFilled), OrderFilled).order.status is OrderStatus.FILLED

    position = sim.position()
    assert position.size == 0
    assert position.cum_realised_pnl == D("395.48")
    assert sim.view().wallet_balance == D("10395.48")
