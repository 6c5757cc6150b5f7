"""Backtests over stored history: bad jobs refused by name, results in Jesse's names, the ledger exact."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from tests.support.candles import walk
from tradesim.adapters.jesse.backtest import JesseStrategyRunner, StrategyRunFailed, result_as_dict
from tradesim.adapters.jesse.catalogue import StrategyCatalogue
from tradesim.adapters.localfs.stores import local_candle_store
from tradesim.domain import BalanceChanged, EngineEvent, default_catalog
from tradesim.domain.bars import day_start_ms
from tradesim.domain.errors import InvalidInput, NotFound
from tradesim.ports.strategies import StrategyJob

DAY0 = date(2024, 3, 1)
DAYS = 3
RAISER = """
from jesse.strategies import Strategy

class Raiser(Strategy):
    def should_long(self):
        if self.index == 5:
            raise RuntimeError("no signal today")
        return False

    def go_long(self):
        pass
"""


@pytest.fixture
async def runner(tmp_path: Path) -> JesseStrategyRunner:
    store = local_candle_store(tmp_path / "objects")
    candles = walk("BTCUSDT", day_start_ms(DAY0), 1440 * DAYS, seed=21)
    for day in range(DAYS):
        await store.write_day("BTCUSDT", DAY0 + timedelta(days=day), candles[day * 1440 : (day + 1) * 1440])
    (tmp_path / "mine" / "Raiser").mkdir(parents=True)
    (tmp_path / "mine" / "Raiser" / "__init__.py").write_text(RAISER)
    return JesseStrategyRunner(StrategyCatalogue([tmp_path / "mine"]), store, default_catalog(), warmup_candles=30)


def _job(**changes: object) -> StrategyJob:
    fields: dict[str, object] = {
        "run_id": "run-1",
        "strategy": "SmaCross",
        "symbol": "BTCUSDT",
        "start_ms": day_start_ms(DAY0) + 3_600_000,
        "end_ms": day_start_ms(DAY0 + timedelta(days=DAYS)),
        "starting_balance": Decimal(10000),
        "timeframe": "5m",
        "leverage": 2,
    }
    fields.update(changes)
    return StrategyJob(**fields)  # type: ignore[arg-type]


async def test_a_backtest_reports_jesses_metrics_round_trips_and_an_exact_ledger(runner: JesseStrategyRunner) -> None:
    events: list[EngineEvent] = []
    seen: list[Decimal] = []
    result = await runner.run(_job(params={"fast": "5", "slow": "20"}), seen.append, record=events)
    metrics = result.metrics
    assert {"total", "win_rate", "net_profit", "net_profit_percentage", "max_drawdown", "sharpe_ratio", "fee"} <= set(
        metrics
    )
    assert int(metrics["total"]) == len(result.trades) > 0
    ledger = sum((e.entry.amount for e in events if isinstance(e, BalanceChanged)), Decimal(0))
    assert Decimal(metrics["finishing_balance"]) == ledger
    assert metrics["starting_balance"] == "10000"
    # Round trips add up to the net profit (Jesse's floats, to the cent).
    assert float(sum(t.pnl for t in result.trades)) == pytest.approx(float(metrics["net_profit"]), abs=0.01)
    assert float(ledger - 10000) == pytest.approx(float(metrics["net_profit"]), abs=0.01)
    assert all(t.opened_ms < t.closed_ms and t.exit_price and t.fee > 0 for t in result.trades)
    assert result.equity_curve[0] == (_job().start_ms, Decimal(10000))
    assert seen == sorted(seen)
    assert seen[-1] == 1
    shaped = result_as_dict(_job(), result)
    assert set(shaped["trades"][0]) == {
        "side",
        "qty",
        "entryPrice",
        "exitPrice",
        "openedTime",
        "closedTime",
        "pnl",
        "fee",
    }


async def test_the_same_job_gives_the_same_result(runner: JesseStrategyRunner) -> None:
    assert await runner.run(_job()) == await runner.run(_job())


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        ({"strategy": "Nope"}, NotFound, "unknown strategy 'Nope'"),
        ({"timeframe": "2m"}, InvalidInput, "unknown timeframe '2m'; known: 1m, 5m"),
        ({"params": {"fast": "1"}}, InvalidInput, "hyperparameter fast of SmaCross must be between 2 and 100; got 1"),
        ({"params": {"fast": "x"}}, InvalidInput, "hyperparameter fast of SmaCross must be an integer; got 'x'"),
        ({"params": {"speed": "1"}}, InvalidInput, "SmaCross has no hyperparameter 'speed'"),
        ({"end_ms": day_start_ms(DAY0)}, InvalidInput, "end must be after start"),
        (
            {"start_ms": day_start_ms(DAY0 + timedelta(days=10)), "end_ms": day_start_ms(DAY0 + timedelta(days=11))},
            InvalidInput,
            "no BTCUSDT history between",
        ),
        ({"leverage": 1000}, InvalidInput, "leverage must be between 1 and"),
        ({"starting_balance": Decimal(0)}, InvalidInput, "startingBalance must be positive"),
    ],
)
async def test_bad_jobs_are_refused_with_the_reason(
    runner: JesseStrategyRunner, changes: dict[str, object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        await runner.run(_job(**changes))


async def test_a_strategy_that_raises_fails_its_run_with_where(runner: JesseStrategyRunner) -> None:
    with pytest.raises(
        StrategyRunFailed, match=r"strategy Raiser raised RuntimeError in should_long \(.*Raiser/__init__.py:"
    ):
        await runner.run(_job(strategy="Raiser"))
    assert (await runner.run(_job())).metrics["total"]  # the next run is unaffected
