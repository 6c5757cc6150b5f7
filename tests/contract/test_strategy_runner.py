"""Contract of the strategy runner: a strategy trades history through the engine; results are exact."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path

import pytest

from tests.contract import records
from tradesim.adapters.memory.market_data import ListHistorySource
from tradesim.adapters.memory.storage import MemoryCandleStore
from tradesim.adapters.memory.strategies import InProcessStrategyRunner
from tradesim.domain import Candle, Side, default_catalog
from tradesim.domain.bars import day_of
from tradesim.domain.errors import InvalidInput, NotFound
from tradesim.ports.strategies import StrategyJob, StrategyRunner, Trader

MINUTE = 60_000
START = records.candle(0).open_time


def _bars() -> list[Candle]:
    """Up 10 bars (30000 -> 30100), down 10 bars (-> 30000), up 10 again: two clear turns."""
    closes = [30000 + 10 * i for i in range(1, 11)] + [30100 - 10 * i for i in range(1, 11)]
    closes += [30000 + 10 * i for i in range(1, 11)]
    bars, previous = [], Decimal(30000)
    for minute, close in enumerate(closes):
        price = Decimal(close)
        bars.append(
            Candle(
                symbol="BTCUSDT",
                open_time=START + minute * MINUTE,
                open=previous,
                high=max(previous, price),
                low=min(previous, price),
                close=price,
                volume=Decimal(1),
            )
        )
        previous = price
    return bars


class FollowTheLastBar:
    """Long after an up bar, short after a down bar: reverses at each turn."""

    def __init__(self, params: Mapping[str, str]) -> None:
        self.qty = Decimal(params.get("qty", "0.010"))

    def on_bar(self, trader: Trader, candle: Candle) -> None:
        want = Side.BUY if candle.close > candle.open else Side.SELL
        position = trader.position
        if position is not None and position.side is want:
            return
        trader.close()
        trader.market(want, self.qty)


#: The same rule as a Jesse strategy, for the Jesse runner (a folder in Jesse's layout).
JESSE_FOLLOW = """
from jesse.strategies import Strategy


class follow(Strategy):
    def should_long(self):
        return self.close > self.open

    def should_short(self):
        return self.close < self.open

    def go_long(self):
        self.buy = 0.01, self.price

    def go_short(self):
        self.sell = 0.01, self.price

    def update_position(self):
        if (self.is_long and self.close < self.open) or (self.is_short and self.close > self.open):
            self.liquidate()
"""


@pytest.fixture(params=["in-process", pytest.param("jesse", marks=pytest.mark.slow)])
async def runner(request: pytest.FixtureRequest, tmp_path: Path) -> StrategyRunner:
    if request.param == "in-process":
        return InProcessStrategyRunner({"follow": FollowTheLastBar}, ListHistorySource(_bars()))
    pytest.importorskip("jesse", reason="the jesse extra is not installed")
    from tradesim.adapters.jesse.backtest import JesseStrategyRunner
    from tradesim.adapters.jesse.catalogue import StrategyCatalogue

    (tmp_path / "follow").mkdir()
    (tmp_path / "follow" / "__init__.py").write_text(JESSE_FOLLOW)
    store = MemoryCandleStore()
    bars = _bars()
    for day in sorted({day_of(c.open_time) for c in bars}):
        await store.write_day("BTCUSDT", day, [c for c in bars if day_of(c.open_time) == day])
    return JesseStrategyRunner(StrategyCatalogue(builtin_dir=tmp_path), store, default_catalog())


def _job(**changes: object) -> StrategyJob:
    fields: dict[str, object] = {
        "run_id": "run-1",
        "strategy": "follow",
        "symbol": "BTCUSDT",
        "start_ms": START,
        "end_ms": START + 30 * MINUTE,
        "starting_balance": Decimal("10000"),
    }
    fields.update(changes)
    return StrategyJob(**fields)  # type: ignore[arg-type]


async def test_a_strategy_trades_history_and_its_results_add_up(runner: StrategyRunner) -> None:
    result = await runner.run(_job())
    # Long from the first bar's close (30010) until the first down bar closes (30090): +0.8 a unit
    # (0.010 x 80 = 0.80 USDT before fees); then short until the market turns up again. (A runner
    # may also close the last long at the end of the run, as Jesse does: a third round trip.)
    assert [t.side for t in result.trades][:2] == [Side.BUY, Side.SELL]
    first = result.trades[0]
    assert first.entry_price == Decimal("30010")
    assert first.size == Decimal("0.010")
    # entry fee 0.01 x 30010 x 0.00055 = 0.165055, exit fee 0.01 x 30090 x 0.00055 = 0.165495
    assert first.pnl == Decimal("0.80") - Decimal("0.165055") - Decimal("0.165495")
    assert result.metrics["total"] == str(len(result.trades))
    assert Decimal(result.metrics["finishing_balance"]) == result.equity_curve[-1][1]
    assert result.equity_curve[0][1] == Decimal("10000")


async def test_the_same_job_gives_the_same_result(runner: StrategyRunner) -> None:
    assert await runner.run(_job()) == await runner.run(_job())


async def test_bad_jobs_are_refused_with_the_reason(runner: StrategyRunner) -> None:
    with pytest.raises(NotFound, match="unknown strategy 'nope'; known: follow"):
        await runner.run(_job(strategy="nope"))
    with pytest.raises(InvalidInput, match="no BTCUSDT history"):
        await runner.run(_job(start_ms=START + 100 * MINUTE, end_ms=START + 200 * MINUTE))
    with pytest.raises(InvalidInput, match="end must be after start"):
        await runner.run(_job(end_ms=START))
