"""Backtests of catalogue strategies over stored 1m history, through the matching engine (`StrategyRunner`).

A run gets its own engine (on a clock the bars drive) and one account with the job's balance.
Warm-up bars come from the history before the start, as many as the strategy's timeframe needs
(fewer when the history begins later); the first decision is at the first close of the
timeframe at or after the start, and the end is exclusive. At the end Jesse's own `_terminate`
cancels pending entries and closes an open position at market (a closed trade, as in Jesse).
Metrics are Jesse's (`services.metrics.trades`), under Jesse's names, as decimal strings.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal
from typing import Any

import numpy as np
from jesse.services import metrics as jesse_metrics
from jesse.store import store

from tradesim.adapters.jesse.catalogue import StrategyCatalogue
from tradesim.adapters.jesse.minutes import Minutes, contiguous
from tradesim.adapters.jesse.runtime import JesseRuntime, StrategyFailed
from tradesim.adapters.jesse.spec import DEFAULT_WARMUP, TIMEFRAME_MS, ContextSpec
from tradesim.domain.bars import day_of
from tradesim.domain.engine import MatchingEngine, SequentialIds
from tradesim.domain.enums import Side
from tradesim.domain.errors import InvalidInput
from tradesim.domain.events import EngineEvent
from tradesim.domain.instruments import InstrumentCatalog
from tradesim.domain.numbers import ZERO, money_str
from tradesim.domain.replay import ManualClock
from tradesim.domain.strategy_specs import check_timeframe
from tradesim.ports.storage import CandleStore
from tradesim.ports.strategies import Progress, StrategyJob, StrategyResult, StrategyTrade

ACCOUNT = "strategy"
MINUTE_MS = 60_000
#: Bars played between two progress reports (and two yields to the event loop).
_CHUNK = 1440


class StrategyRunFailed(InvalidInput):
    """The strategy raised during the run; the message says where."""

    code = "STRATEGY_FAILED"


class JesseStrategyRunner:
    """`StrategyRunner` for Jesse strategies. Runs on the calling thread (Jesse's state is not thread-safe)."""

    def __init__(
        self,
        catalogue: StrategyCatalogue,
        candles: CandleStore,
        instruments: InstrumentCatalog,
        *,
        warmup_candles: int = DEFAULT_WARMUP,
    ) -> None:
        self._catalogue = catalogue
        self._candles = candles
        self._instruments = instruments
        self._warmup = warmup_candles

    def check(self, job: StrategyJob) -> dict[str, Any]:
        """The job's hyperparameters, typed; raises `NotFound` / `InvalidInput` naming what is wrong."""
        hyperparameters = self._catalogue.hyperparameters(job.strategy, job.params)
        check_timeframe(job.timeframe)
        if job.end_ms <= job.start_ms:
            raise InvalidInput("end must be after start")
        instrument = self._instruments.get(job.symbol)
        if job.starting_balance <= 0:
            raise InvalidInput("startingBalance must be positive")
        if not 1 <= job.leverage <= instrument.max_leverage:
            raise InvalidInput(f"leverage must be between 1 and {instrument.max_leverage} for {job.symbol}")
        return hyperparameters

    async def run(
        self, job: StrategyJob, progress: Progress | None = None, *, record: list[EngineEvent] | None = None
    ) -> StrategyResult:
        """Raises `NotFound`, `InvalidInput` (bad job, no history) or `StrategyRunFailed` (the strategy raised).

        `record`, when given, receives every engine event of the run.
        """
        hyperparameters = self.check(job)
        info = self._catalogue.get(job.strategy)
        tf = TIMEFRAME_MS[job.timeframe]
        first = -(-job.start_ms // tf) * tf
        warm_from = first - self._warmup * tf
        days = _days(warm_from, job.end_ms)
        minutes = contiguous(await self._candles.read_bars(job.symbol, days), warm_from, job.end_ms)
        if minutes is None or minutes.times[-1] < first:
            raise InvalidInput(f"no {job.symbol} history between {job.start_ms} and {job.end_ms}")
        # Warm-up and trading rows both start on a boundary of the timeframe (Jesse counts 1m rows).
        begin = minutes.index_of(-(-int(minutes.times[0]) // tf) * tf)
        start = max(minutes.index_of(first), begin)
        if start >= len(minutes):
            raise InvalidInput(f"no {job.symbol} history between {job.start_ms} and {job.end_ms}")
        start_ms = int(minutes.times[start])
        clock = ManualClock(start_ms)
        engine = MatchingEngine(self._instruments, clock, ids=SequentialIds(job.run_id))
        opened = engine.open_account(ACCOUNT, job.starting_balance)
        if record is not None:
            record.extend(opened)
        runtime = JesseRuntime(engine, clock, self._instruments, record=record)
        spec = ContextSpec(
            key=job.run_id,
            strategy=info.strategy,  # type: ignore[arg-type]
            strategy_name=info.name,
            account_id=ACCOUNT,
            symbol=job.symbol,
            timeframe=job.timeframe,
            starting_balance=job.starting_balance,
            leverage=job.leverage,
            hyperparameters=hyperparameters,
            warmup_candles=self._warmup,
        )
        try:
            ctx = runtime.add(spec, start_ms=start_ms, warmup=minutes.rows[begin:start] if start > begin else None)
        except StrategyFailed as error:
            raise StrategyRunFailed(str(error)) from error
        try:
            await _play(runtime, job, minutes, start, progress)
            runtime.terminate(job.run_id)
            if job.run_id in runtime.failed:
                raise StrategyRunFailed(runtime.failed[job.run_id])
            result: StrategyResult = runtime.run(ctx, lambda: _result(job, engine))
        finally:
            runtime.remove(job.run_id)
        if progress is not None:
            progress(Decimal(1))
        return result


async def _play(
    runtime: JesseRuntime, job: StrategyJob, minutes: Minutes, start: int, progress: Progress | None
) -> None:
    rows = minutes.rows
    on_row = runtime.on_row
    symbol = job.symbol
    total = len(minutes) - start
    # A strategy on 1m decides on every bar: there is no quiet stretch to look for.
    quiet_run = runtime.quiet_run if job.timeframe != "1m" else None
    for chunk in range(start, len(minutes), _CHUNK):
        i, stop = chunk, min(chunk + _CHUNK, len(minutes))
        while i < stop:
            if quiet_run is not None:
                skipped = quiet_run(symbol, rows, i, stop)
                if skipped:
                    i += skipped
                    continue
            on_row(symbol, rows[i])
            i += 1
        if job.run_id in runtime.failed:
            raise StrategyRunFailed(runtime.failed[job.run_id])
        if progress is not None:
            done = min(chunk + _CHUNK, len(minutes)) - start
            progress(Decimal(done) / Decimal(total) * Decimal("0.99"))
        await asyncio.sleep(0)  # other tasks (and a cancellation) get their turn between chunks


def _days(start_ms: int, end_ms: int) -> list[Any]:
    first, last = day_of(max(start_ms, 0)), day_of(end_ms - 1)
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _result(job: StrategyJob, engine: MatchingEngine) -> StrategyResult:
    """Read with the context's Jesse state live."""
    closed = list(store.closed_trades.trades)
    metrics = jesse_metrics.trades(closed, store.app.daily_balance)
    out = {key: text for key, value in metrics.items() if (text := _text(value)) is not None}
    balance = engine.balances(ACCOUNT).get("USDT", ZERO)
    # The engine's ledger is the truth; Jesse's floats only follow it.
    out["starting_balance"] = money_str(job.starting_balance)  # PostgreSQL hands 10000 back as 1E+4
    out["finishing_balance"] = str(balance)
    trades = [_trade(job.symbol, t) for t in closed]
    equity = [
        (int(ts), _decimal(value))
        for ts, value in zip(store.app.daily_balance_timestamps, store.app.daily_balance, strict=False)
    ]
    if equity:  # sampled at the end, everything closed: the balance itself, exactly
        equity[-1] = (equity[-1][0], balance)
    return StrategyResult(job.run_id, trades, out, equity)


def _trade(symbol: str, trade: Any) -> StrategyTrade:
    return StrategyTrade(
        symbol=symbol,
        side=Side.BUY if trade.type == "long" else Side.SELL,
        size=_decimal(trade.qty),
        entry_price=_decimal(trade.entry_price),
        opened_ms=int(trade.opened_at),
        closed_ms=int(trade.closed_at),
        pnl=_decimal(trade.pnl),
        exit_price=_decimal(trade.exit_price),
        fee=_decimal(trade.fee),
    )


def _decimal(value: Any) -> Decimal:
    """A float of Jesse's as the shortest decimal that reads back as it (12 significant digits at most)."""
    number = float(value)
    if not math.isfinite(number):
        return ZERO
    return Decimal(f"{number:.12g}")


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | np.integer):
        return str(int(value))
    number = float(value)
    return f"{number:.12g}" if math.isfinite(number) else None


def result_as_dict(job: StrategyJob, result: StrategyResult, status: str = "finished") -> dict[str, Any]:
    """The run as `GET /api/v1/strategy-runs/{id}` shapes it (DESIGN §9)."""
    return {
        "runId": job.run_id,
        "strategy": job.strategy,
        "symbol": job.symbol,
        "timeframe": job.timeframe,
        "start": job.start_ms,
        "end": job.end_ms,
        "status": status,
        "progress": "1",
        "metrics": result.metrics,
        "trades": [
            {
                "side": t.side.value,
                "qty": str(t.size),
                "entryPrice": str(t.entry_price),
                "exitPrice": str(t.exit_price),
                "openedTime": t.opened_ms,
                "closedTime": t.closed_ms,
                "pnl": str(t.pnl),
                "fee": str(t.fee),
            }
            for t in result.trades
        ],
        "equityCurve": [[ts, str(value)] for ts, value in result.equity_curve],
    }


__all__: Sequence[str] = ("JesseStrategyRunner", "StrategyRunFailed", "result_as_dict")
