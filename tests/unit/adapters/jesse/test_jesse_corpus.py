"""Jesse's own example strategies (shipped in the `jesse` wheel) run unmodified through the runtime.

Each runs on the candles Jesse's own tests give it (1m bars from a list of closes: open at the
previous close), on an instrument with no fees and a 0.01 tick like Jesse's test exchange, and
must do what the strategy is about: many of them assert inside their own hooks (an assertion that
fails there fails the context, and the test with it); the rest are checked here on the trades,
the orders the engine saw and the hooks that fired.

Left out, and why:
- ``Test05`` and the other numbered tests that read fixed timestamps or random candles of Jesse's
  fixtures, whose expected numbers live in Jesse's repository, not in the wheel;
- ``…InSpot`` and ``TestShortInSpot``: a spot exchange; contexts trade USDT perpetuals;
- ``TestLiquidationInIsolatedMode…``: isolated margin; contexts trade cross margin;
- ``TestInsufficientMargin1-3``, ``TestCannotSpendMoreThanAvailableBalance``: they assert Jesse's own
  margin refusals, which tradesim's engine replaces with its own;
- multi-route ones (``TestDataRoutes…``, ``TestMultiInstrumentReplay…``, ``TestOnRouteOpenPosition…``,
  ``TestCurrentRouteIndex…``): a context is one route;
- ``RealStrategyRegression1-2``: they read 4h candles through a data route;
- chart, ML, metrics and rule-significance helpers: they place no orders to check.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import pytest

from tests.support.candles import walk
from tradesim.adapters.jesse.runtime import JesseRuntime
from tradesim.adapters.jesse.spec import ContextSpec
from tradesim.domain import (
    BalanceChanged,
    Category,
    EngineEvent,
    Instrument,
    InstrumentCatalog,
    ManualClock,
    MatchingEngine,
    OrderAccepted,
    OrderCancelled,
    OrderFilled,
    OrderType,
    SequentialIds,
)

START = 1_609_459_200_000  # 2021-01-01T00:00Z, as Jesse's candle factory
UP = list(range(1, 100))
FROM_101 = list(range(101, 200))


def _instrument(symbol: str) -> Instrument:
    return Instrument(
        symbol=symbol,
        category=Category.LINEAR,
        base_coin=symbol.removesuffix("USDT"),
        quote_coin="USDT",
        tick_size="0.01",
        min_price="0.01",
        max_price="1000000",
        qty_step="0.001",
        min_order_qty="0.001",
        max_order_qty="1000000",
        max_market_order_qty="1000000",
        min_notional="0",
        max_leverage="100",
        maker_fee_rate="0",
        taker_fee_rate="0",
        maintenance_margin_rate="0.005",
    )


class Run:
    def __init__(self, name: str, closes: Sequence[float] | None = None, *, bars: list[Any] | None = None) -> None:
        module = importlib.import_module(f"jesse.strategies.{name}")
        strategy = getattr(module, name)
        self.catalog = InstrumentCatalog([_instrument("BTCUSDT")])
        self.clock = ManualClock(START)
        self.engine = MatchingEngine(self.catalog, self.clock, ids=SequentialIds("c"))
        self.events: list[EngineEvent] = list(self.engine.open_account("acct", Decimal(10000)))
        self.runtime = JesseRuntime(self.engine, self.clock, self.catalog, record=self.events)
        spec = ContextSpec(name, strategy, name, "acct", "BTCUSDT", "1m", Decimal(10000), 1, warmup_candles=0)
        self.bars = bars if bars is not None else _bars(closes or UP)
        self.ctx = self.runtime.add(spec, start_ms=self.bars[0][0])
        for open_time, o, h, lo, c in self.bars:
            self.runtime.on_bar("BTCUSDT", open_time, (o, h, lo, c), Decimal(1))
        assert self.runtime.failed == {}, self.runtime.failed
        self.runtime.terminate(name)
        assert self.runtime.failed == {}, self.runtime.failed
        self.store = self.ctx.state.store_dict

    @property
    def trades(self) -> list[Any]:
        return list(self.store["closed_trades"].trades)

    def fills(self) -> list[OrderFilled]:
        return [e for e in self.events if isinstance(e, OrderFilled)]

    def balance(self) -> Decimal:
        balance = self.engine.balances("acct")["USDT"]
        ledger = sum((e.entry.amount for e in self.events if isinstance(e, BalanceChanged)), Decimal(0))
        assert balance == ledger
        assert self.ctx.wallet.assets["USDT"] == pytest.approx(float(balance))
        return balance


def _bars(closes: Sequence[float]) -> list[tuple[int, Decimal, Decimal, Decimal, Decimal]]:
    """Jesse's `candles_from_close_prices`: each bar opens at the previous close (the first 0.5 below)."""
    out = []
    previous = Decimal(str(closes[0])) - Decimal("0.5")
    for i, close in enumerate(closes):
        c = Decimal(str(close))
        out.append((START + i * 60_000, previous, max(previous, c), min(previous, c), c))
        previous = c
    return out


def _one_trade(run: Run, kind: str, entry: float, exit_: float, qty: float = 1) -> Any:
    [trade] = run.trades
    assert (trade.type, trade.entry_price, trade.exit_price, abs(trade.qty)) == (kind, entry, exit_, qty)
    return trade


def test01_buys_on_the_first_bar_and_leaves_at_its_take_profit() -> None:
    run = Run("Test01", FROM_101)
    _one_trade(run, "long", 101, 111)
    assert run.balance() == Decimal(10010)
    # The take-profit was a resting limit order, filled at its own price as maker.
    assert [f.execution.is_maker for f in run.fills()] == [False, True]


def test02_sells_on_the_first_bar_and_is_stopped_out() -> None:
    run = Run("Test02", FROM_101)
    _one_trade(run, "short", 101, 111)
    assert run.balance() == Decimal(9990)


def test_on_close_position_sees_the_take_profit_set_in_on_open_position() -> None:
    run = Run("TestOnClosePosition")  # asserts exit 12, entry 10, qty 1 inside on_close_position
    _one_trade(run, "long", 10, 12)


def test_reduce_only_market_orders_close_a_position_sized_on_the_whole_balance() -> None:
    run = Run("TestReduceOnlyMarketOrders")
    _one_trade(run, "long", 10, 20, qty=1000)
    assert run.balance() == Decimal(20000)
    assert run.fills()[-1].order.reduce_only


def test_increased_and_reduced_counts_follow_the_engines_fills() -> None:
    run = Run("TestIncreasedAndReducedCount")  # asserts the counts inside update_position and before
    [trade] = run.trades
    assert abs(trade.qty) == 2
    assert len(run.fills()) >= 4


def test_on_cancel_fires_when_an_unfilled_entry_is_cancelled() -> None:
    run = Run("TestOnCancelMethod")  # asserts the price inside on_cancel
    assert run.trades == []
    [cancelled] = [e for e in run.events if isinstance(e, OrderCancelled)]
    assert cancelled.order.price == Decimal(8)
    assert run.balance() == Decimal(10000)


def test_terminate_closes_the_open_position_and_calls_the_hooks() -> None:
    run = Run("TestTerminate")
    assert run.store["app"].starting_time == 1  # set by its terminate(), after before_terminate()
    _one_trade(run, "long", 10, 99)
    assert run.engine.position("acct", "BTCUSDT").size == 0  # type: ignore[union-attr]


def test_before_runs_ahead_of_the_rules() -> None:
    run = Run("TestBeforeMethod")  # asserts self.vars set by before()
    assert run.trades == []
    assert run.ctx.executions == len(UP)


def test_a_new_position_opens_on_the_bar_update_position_closed_the_last() -> None:
    run = Run("TestCanOpenANewPositionImmediatelyAfterClosingViaUpdatePosition")
    assert [(t.entry_price, t.exit_price) for t in run.trades] == [(10, 20), (20, 99)]


def test_updated_entry_orders_are_cancelled_and_resubmitted() -> None:
    run = Run("TestMultipleEntryOrdersUpdateEntryLongPositions")  # asserts order types/statuses in before()
    limits = [e.order.price for e in run.events if isinstance(e, OrderCancelled)]
    assert Decimal(9) in limits
    assert Decimal(8) in limits


def test_cancelling_entry_orders_after_the_position_opened() -> None:
    run = Run("TestCanCancelEntryOrdersAfterOpenPositionLong1")  # asserts statuses in before()
    assert sorted(e.order.price for e in run.events if isinstance(e, OrderCancelled)) == [Decimal(8), Decimal(9)]


def test_a_stop_loss_beyond_the_price_exits_at_market() -> None:
    run = Run("TestStopLossPriceIsReplacedWithMarketOrderForBetterPriceLongPosition")  # asserts exit 10
    _one_trade(run, "long", 10, 10)


def test_a_take_profit_below_the_price_exits_at_market() -> None:
    run = Run("TestTakeProfitPriceIsReplacedWithMarketOrderWhenMoreConvenientLongPosition")  # asserts exit 10
    _one_trade(run, "long", 10, 10)


def test_real_strategy_regression3_trades_a_random_walk() -> None:
    candles = walk("BTCUSDT", START, 3000, seed=31, price="100.00", tick="0.01")
    bars = [(c.open_time, c.open, c.high, c.low, c.close) for c in candles]
    run = Run("RealStrategyRegression3", bars=bars)
    trades = run.trades
    assert trades
    # on_open_position set a stop-loss (a conditional order) and a take-profit (a limit) in the engine.
    placed = [e.order for e in run.events if isinstance(e, OrderAccepted)]
    assert any(o.trigger_price is not None and o.reduce_only for o in placed)
    assert any(o.order_type is OrderType.LIMIT and o.reduce_only for o in placed)
    assert float(run.balance()) == pytest.approx(10000 + sum(t.pnl for t in trades), abs=1e-6)
