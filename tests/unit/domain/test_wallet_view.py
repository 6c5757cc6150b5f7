"""`domain/wallet.py` computes the wallet figures from stored records with `account_arithmetic`, as the engine does."""

from __future__ import annotations

from decimal import Decimal

import attrs

from tradesim.domain import (
    CancelOrder,
    MatchingEngine,
    OrderType,
    PlaceOrder,
    Side,
    Ticker,
    TimeInForce,
    default_catalog,
)
from tradesim.domain.accounts import AccountView
from tradesim.domain.wallet import wallet_view

CATALOG = default_catalog()
ACCOUNT = "acc-1"
START = {"BTCUSDT": Decimal("30000.0"), "ETHUSDT": Decimal("2000.00")}
TICK = {"BTCUSDT": Decimal("0.1"), "ETHUSDT": Decimal("0.01")}
STEP = {"BTCUSDT": Decimal("0.001"), "ETHUSDT": Decimal("0.01")}


@attrs.define
class Scenario:
    engine: MatchingEngine
    now: list[int]
    last: dict[str, Decimal] = attrs.field(factory=lambda: dict(START))

    def ticker(self, symbol: str) -> None:
        price = self.last[symbol]
        self.now[0] += 1000
        self.engine.on_ticker(
            Ticker.of(symbol, last=price, bid=price - TICK[symbol], ask=price, mark=price, ts=self.now[0])
        )


def play(steps: list[tuple[object, ...]]) -> Scenario:
    now = [1_700_000_000_000]
    engine = MatchingEngine(CATALOG, clock=lambda: now[0])
    engine.open_account(ACCOUNT, Decimal("10000"))
    scenario = Scenario(engine, now)
    for symbol in START:
        scenario.ticker(symbol)
    for step in steps:
        kind = step[0]
        if kind == "tick":
            _, symbol, ticks = step
            scenario.last[symbol] = max(scenario.last[symbol] + ticks * TICK[symbol] * 10, TICK[symbol] * 1000)
            scenario.ticker(symbol)
        elif kind == "market":
            _, symbol, side, lots = step
            qty = lots * STEP[symbol]
            engine.place(PlaceOrder(ACCOUNT, symbol, side, OrderType.MARKET, qty))
        elif kind == "limit":
            _, symbol, side, lots, offset = step
            price = scenario.last[symbol] + offset * TICK[symbol] * 5
            qty = lots * STEP[symbol]
            cmd = PlaceOrder(ACCOUNT, symbol, side, OrderType.LIMIT, qty, price=price, time_in_force=TimeInForce.GTC)
            engine.place(cmd)
        else:
            open_orders = engine.open_orders(ACCOUNT)
            if open_orders:
                order = open_orders[step[1] % len(open_orders)]
                engine.cancel(CancelOrder(ACCOUNT, order.order_id, order.symbol))
    return scenario


def from_records(scenario: Scenario, *, with_marks: bool = True) -> AccountView:
    engine = scenario.engine
    return wallet_view(
        ACCOUNT,
        engine.balances(ACCOUNT),
        engine.positions(ACCOUNT),
        engine.open_orders(ACCOUNT),
        dict(scenario.last) if with_marks else {},
        CATALOG,
    )


def test_a_resting_order_reserves_its_order_cost_and_a_position_its_margin() -> None:
    scenario = play(
        [
            ("market", "BTCUSDT", Side.BUY, 100),  # 0.1 BTC at 30000: IM 300
            ("limit", "ETHUSDT", Side.BUY, 100, -20),  # 1 ETH at 1999.00 rests
            ("tick", "BTCUSDT", 10),  # mark 30010: +1 unrealised
        ]
    )
    view = from_records(scenario)
    assert view.position_im == Decimal("300")
    assert view.unrealised_pnl == Decimal("1")
    assert view.order_im > Decimal("199.9")  # 1999 / 10 plus fees to open and close
    assert view.available_balance == view.wallet_balance + 1 - 300 - view.order_im
    assert view == scenario.engine.account_view(ACCOUNT)


def test_orders_not_yet_taken_in_by_an_engine_hold_nothing() -> None:
    scenario = play([("limit", "BTCUSDT", Side.BUY, 10, -20)])
    [order] = scenario.engine.open_orders(ACCOUNT)
    queued = attrs.evolve(order, accepted_time=0)
    view = wallet_view(ACCOUNT, {"USDT": Decimal("10000")}, [], [queued], {}, CATALOG)
    assert view.order_im == 0
    assert view.available_balance == Decimal("10000")
