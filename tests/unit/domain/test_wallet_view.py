"""`domain/wallet.py` computes from stored records the figures the engine computes from its memory."""

from __future__ import annotations

from decimal import Decimal

import attrs
from hypothesis import given, settings
from hypothesis import strategies as st

from tradesim.domain import (
    CancelOrder,
    MatchingEngine,
    OrderAccepted,
    OrderAmended,
    OrderFilled,
    OrderType,
    PlaceOrder,
    PositionChanged,
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

symbols = st.sampled_from(sorted(START))
actions = st.one_of(
    st.tuples(st.just("tick"), symbols, st.integers(-400, 400)),
    st.tuples(st.just("market"), symbols, st.sampled_from(Side), st.integers(1, 40)),
    st.tuples(st.just("limit"), symbols, st.sampled_from(Side), st.integers(1, 40), st.integers(-60, 60)),
    st.tuples(st.just("cancel"), st.integers(0, 20)),
)


@attrs.define
class Scenario:
    engine: MatchingEngine
    now: list[int]
    last: dict[str, Decimal] = attrs.field(factory=lambda: dict(START))
    event_no: int = 0
    #: when each symbol's position last changed size or side, and when each order last (re)rested
    position_moved: dict[str, int] = attrs.field(factory=dict)
    rested: dict[str, int] = attrs.field(factory=dict)
    shape: dict[str, tuple[object, Decimal]] = attrs.field(factory=dict)

    def ticker(self, symbol: str) -> None:
        price = self.last[symbol]
        self.now[0] += 1000
        self.record(
            self.engine.on_ticker(
                Ticker.of(symbol, last=price, bid=price - TICK[symbol], ask=price, mark=price, ts=self.now[0])
            )
        )

    def record(self, events: list[object]) -> None:
        for event in events:
            self.event_no += 1
            if isinstance(event, PositionChanged):
                p = event.position
                if self.shape.get(p.symbol) != (p.side, p.size):
                    self.shape[p.symbol] = (p.side, p.size)
                    self.position_moved[p.symbol] = self.event_no
            elif isinstance(event, OrderAccepted | OrderAmended | OrderFilled):
                self.rested[event.order.order_id] = self.event_no

    def reservations_current(self) -> bool:
        """The engine sizes an order's margin when it rests; a later position change leaves it as it was."""
        return all(
            o.reduce_only or self.rested.get(o.order_id, 0) > self.position_moved.get(o.symbol, 0)
            for o in self.engine.open_orders(ACCOUNT)
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
            scenario.record(engine.place(PlaceOrder(ACCOUNT, symbol, side, OrderType.MARKET, qty)))
        elif kind == "limit":
            _, symbol, side, lots, offset = step
            price = scenario.last[symbol] + offset * TICK[symbol] * 5
            qty = lots * STEP[symbol]
            cmd = PlaceOrder(ACCOUNT, symbol, side, OrderType.LIMIT, qty, price=price, time_in_force=TimeInForce.GTC)
            scenario.record(engine.place(cmd))
        else:
            open_orders = engine.open_orders(ACCOUNT)
            if open_orders:
                order = open_orders[step[1] % len(open_orders)]
                scenario.record(engine.cancel(CancelOrder(ACCOUNT, order.order_id, order.symbol)))
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


def restored(scenario: Scenario) -> AccountView:
    """What an engine rebuilt from the same records shows (a worker after a restart), before any price.

    No ticker is fed to it: a ticker would also match (an order resting at the last price fills on
    the next tick), so it is compared with the records' figures without mark prices.
    """
    engine = scenario.engine
    fresh = MatchingEngine(CATALOG, clock=lambda: scenario.now[0])
    fresh.restore_account(ACCOUNT, engine.balances(ACCOUNT), engine.positions(ACCOUNT), engine.open_orders(ACCOUNT))
    return fresh.account_view(ACCOUNT)


@settings(max_examples=300, deadline=None)
@given(st.lists(actions, max_size=40))
def test_wallet_figures_from_records_agree_with_the_engine(steps: list[tuple[object, ...]]) -> None:
    scenario = play(steps)
    mine = from_records(scenario)
    live = scenario.engine.account_view(ACCOUNT)
    assert mine.wallet_balance == live.wallet_balance
    assert mine.unrealised_pnl == live.unrealised_pnl
    assert mine.equity == live.equity
    assert mine.position_im == live.position_im
    if scenario.reservations_current():
        assert mine.order_im == live.order_im
        assert mine.available_balance == live.available_balance
    assert from_records(scenario, with_marks=False) == restored(scenario)


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
