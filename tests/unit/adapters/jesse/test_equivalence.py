"""A strategy that enters and leaves only with market orders at bar close trades as `jesse.research.backtest` does.

Same candles, same decisions: the same round trips (count, side, opening and closing bar). The
prices are equal too, because the engine plays every bar on Bar Replay's zero-spread path and a
market order at the close fills at the close; the fees differ only as the engine's rules say (taker
rate x qty x price, exact in decimals, where Jesse multiplies floats), and the test computes them.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import jesse.indicators as ta
import numpy as np
import pytest
from jesse import research
from jesse.strategies import Strategy

from tests.support.candles import walk
from tests.unit.adapters.jesse.worlds import rows
from tradesim.adapters.jesse import state as jesse_state
from tradesim.adapters.jesse.grid import EXCHANGE
from tradesim.adapters.jesse.runtime import JesseRuntime
from tradesim.adapters.jesse.spec import ContextSpec
from tradesim.domain import ManualClock, MatchingEngine, OrderFilled, SequentialIds, default_catalog

START = 1_704_067_200_000
QTY = 0.01


class MarketCross(Strategy):  # type: ignore[misc]
    """SMA(5) / SMA(15) cross: market entries, `liquidate()` on the opposite cross."""

    def _cross(self) -> int:
        fast = ta.sma(self.candles, 5, sequential=True)
        slow = ta.sma(self.candles, 15, sequential=True)
        if len(self.candles) < 16:
            return 0
        if fast[-2] <= slow[-2] and fast[-1] > slow[-1]:
            return 1
        if fast[-2] >= slow[-2] and fast[-1] < slow[-1]:
            return -1
        return 0

    def should_long(self) -> bool:
        return self._cross() > 0

    def should_short(self) -> bool:
        return self._cross() < 0

    def go_long(self) -> None:
        self.buy = QTY, self.price

    def go_short(self) -> None:
        self.sell = QTY, self.price

    def update_position(self) -> None:
        cross = self._cross()
        if (self.is_long and cross < 0) or (self.is_short and cross > 0):
            self.liquidate()


def _jesse(candles: np.ndarray, fee: float) -> list[dict[str, Any]]:
    jesse_state.release()
    key = f"{EXCHANGE}-BTC-USDT"
    config = {
        "starting_balance": 10_000,
        "fee": fee,
        "type": "futures",
        "futures_leverage": 2,
        "futures_leverage_mode": "cross",
        "exchange": EXCHANGE,
        "warm_up_candles": 0,
    }
    routes = [{"exchange": EXCHANGE, "strategy": MarketCross, "symbol": "BTC-USDT", "timeframe": "5m"}]
    data = {key: {"exchange": EXCHANGE, "symbol": "BTC-USDT", "candles": candles}}
    result = research.backtest(config, routes, [], data)
    return list(result["trades"])


def test_market_orders_at_bar_close_make_the_same_round_trips_as_jesses_backtest() -> None:
    catalog = default_catalog()
    taker = catalog.get("BTCUSDT").taker_fee_rate
    candles = walk("BTCUSDT", START, 6 * 1440, seed=17)
    theirs = _jesse(rows(candles), float(taker))

    clock = ManualClock(START)
    engine = MatchingEngine(catalog, clock, ids=SequentialIds("eq"))
    events = list(engine.open_account("acct", Decimal(10_000)))
    runtime = JesseRuntime(engine, clock, catalog, record=events)
    spec = ContextSpec("eq", MarketCross, "MarketCross", "acct", "BTCUSDT", "5m", Decimal(10_000), 2, warmup_candles=0)
    ctx = runtime.add(spec, start_ms=START)
    for c in candles:
        runtime.on_bar("BTCUSDT", c.open_time, (c.open, c.high, c.low, c.close), c.volume)
    runtime.terminate("eq")
    ours = list(ctx.state.store_dict["closed_trades"].trades)
    # Six days went through a candle store that keeps one to two days: trimmed, and still the same trades.
    assert 1440 <= ctx.stored_minutes <= 2 * 1440

    assert len(theirs) > 10
    assert [(t.type, t.opened_at, t.closed_at) for t in ours] == [
        (t["type"], t["opened_at"], t["closed_at"]) for t in theirs
    ]
    fills = [e.execution for e in events if isinstance(e, OrderFilled)]
    assert len(fills) == 2 * len(theirs)
    for number, (jesse_trade, entry, exit_) in enumerate(zip(theirs, fills[0::2], fills[1::2], strict=True)):
        # The engine filled at the bar's close, the price Jesse filled at (Jesse's average is a float).
        assert float(entry.exec_price) == pytest.approx(jesse_trade["entry_price"], rel=1e-12), number
        assert float(exit_.exec_price) == pytest.approx(jesse_trade["exit_price"], rel=1e-12), number
        # Taker fees on both legs, computed exactly; Jesse's float product agrees to float precision.
        qty = Decimal(str(QTY))
        expected = qty * entry.exec_price * taker + qty * exit_.exec_price * taker
        assert entry.exec_fee + exit_.exec_fee == expected
        assert float(expected) == pytest.approx(jesse_trade["fee"], rel=1e-9)
    assert float(engine.balances("acct")["USDT"]) == pytest.approx(10_000 + sum(t["PNL"] for t in theirs), abs=1e-6)
