"""Strategy backtest runs, the api's side: submit, read, list and cancel a user's runs.

No Jesse here (the api never imports it): a run is checked against the catalogue the workers
published (`StrategyCatalogueBoard`): its strategy, timeframe and hyperparameters, its symbol
and leverage against the instruments, its range against the stored history, and the user's
quota of active runs. A run that passes is stored queued; a worker leases it
(`application/strategy_run_worker.py`). Anything refused is refused before anything is stored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from decimal import Decimal
from typing import Any

from tradesim.application.limits import Quota
from tradesim.application.published_strategies import PublishedStrategies
from tradesim.domain.bars import day_of
from tradesim.domain.errors import InvalidInput, NotFound
from tradesim.domain.instruments import InstrumentCatalog
from tradesim.domain.numbers import money_str, to_decimal
from tradesim.domain.replay_session import NoHistory
from tradesim.domain.strategy_runs import RunNotActive, StrategyRun, run_topic
from tradesim.domain.strategy_specs import StrategySpec
from tradesim.ports.clock import Clock
from tradesim.ports.storage import CandleStore
from tradesim.ports.strategy_runs import StrategyCatalogueBoard
from tradesim.ports.unit_of_work import UnitOfWorkFactory

DEFAULT_BALANCE = Decimal(10_000)
#: The longest range one run may cover: a few years of 1m bars is what a worker can hold.
MAX_RANGE_MS = 5 * 366 * 86_400_000


class StrategyRunService:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        board: StrategyCatalogueBoard,
        candles: CandleStore,
        catalog: InstrumentCatalog,
        clock: Clock,
        ids: Callable[[], str],
        quota: Quota | None = None,
    ) -> None:
        """`quota`: how many queued or running runs a user may have; None: no limit."""
        self._uow = uow_factory
        self._strategies = PublishedStrategies(board)
        self._candles = candles
        self._catalog = catalog
        self._clock = clock
        self._ids = ids
        self._quota = quota

    async def strategies(self) -> list[StrategySpec]:
        """What the workers can run; raises `NoStrategyWorker` before any has published its catalogue."""
        return await self._strategies.all()

    async def submit(
        self,
        user_id: str,
        strategy: str,
        symbol: str,
        timeframe: str,
        start: int,
        end: int,
        *,
        starting_balance: object = None,
        leverage: int = 1,
        hyperparameters: Mapping[str, Any] | None = None,
    ) -> StrategyRun:
        """A queued run. Raises (nothing stored): `UnknownStrategy`, `BrokenStrategy`,
        `UnknownTimeframe`, `BadHyperparameter`, `InvalidInput`, `UnknownSymbol`,
        `LeverageOutOfRange`-like `InvalidInput`, `NoHistory`, `QuotaExceeded`, `NoStrategyWorker`."""
        spec, typed = await self._strategies.choose(strategy, timeframe, hyperparameters)
        symbol = symbol.strip().upper()
        instrument = self._catalog.get(symbol)
        if end <= start:
            raise InvalidInput("end must be after start")
        if end - start > MAX_RANGE_MS:
            raise InvalidInput("a run covers at most 5 years; split the range")
        balance = DEFAULT_BALANCE if starting_balance is None else to_decimal(starting_balance, "startingBalance")
        if not balance > 0:
            raise InvalidInput("startingBalance must be positive")
        if not 1 <= leverage <= instrument.max_leverage:
            raise InvalidInput(f"leverage must be between 1 and {instrument.max_leverage} for {symbol}")
        await self._require_history(symbol, start, end)
        run = StrategyRun.queued(
            self._ids(),
            user_id,
            spec.name,
            symbol,
            timeframe,
            start,
            end,
            balance,
            leverage,
            typed,
            self._clock.now_ms(),
        )
        async with self._uow() as uow:
            if self._quota is not None:
                self._quota.check(await uow.strategy_runs.count_active(user_id))
            await uow.strategy_runs.add(run)
            await uow.commit()
        return run

    async def get(self, user_id: str, run_id: str) -> StrategyRun:
        """The user's run; `NotFound` for a missing one and another user's alike."""
        async with self._uow() as uow:
            run = await uow.strategy_runs.get(run_id)
        if run is None or run.user_id != user_id:
            raise NotFound(f"no strategy run {run_id}")
        return run

    async def list(self, user_id: str, *, limit: int = 100) -> list[StrategyRun]:
        async with self._uow() as uow:
            return await uow.strategy_runs.list_by_user(user_id, limit=limit)

    async def cancel(self, user_id: str, run_id: str) -> StrategyRun:
        """Cancel a queued or running run (its worker stops at its next chunk of bars).

        Raises `NotFound`, or `RunNotActive` for a run that has ended."""
        run = await self.get(user_id, run_id)
        cancelled = run.cancelled(self._clock.now_ms())  # the state machine says whether it may
        async with self._uow() as uow:
            if not await uow.strategy_runs.cancel(run_id, cancelled.updated_time):
                stored = await uow.strategy_runs.get(run_id)
                status = stored.status.value if stored is not None else "gone"
                raise RunNotActive(f"strategy run {run_id} is {status} already")
            await uow.commit()
        return cancelled

    async def _require_history(self, symbol: str, start: int, end: int) -> None:
        first, last = day_of(start), day_of(end - 1)
        day = first
        while day <= last:
            if await self._candles.has_day(symbol, day):
                return
            day += timedelta(days=1)
        raise NoHistory(
            f"no {symbol} history is stored between {first.isoformat()} and {last.isoformat()}; load it with "
            f"`tradesim history backfill --symbol {symbol} --start {first} --end {last}`"
        )


def run_json(run: StrategyRun) -> dict[str, Any]:
    """The run as `GET /api/v1/strategy-runs/{runId}` shapes it (DESIGN §9), and its socket pushes."""
    body: dict[str, Any] = {
        "runId": run.run_id,
        "strategy": run.strategy,
        "symbol": run.symbol,
        "timeframe": run.timeframe,
        "start": run.start_time,
        "end": run.end_time,
        "startingBalance": money_str(run.starting_balance),
        "leverage": run.leverage,
        "hyperparameters": dict(run.hyperparameters),
        "status": run.status.value,
        "progress": money_str(run.progress),
        "error": run.error,
        "createdTime": run.created_time,
        "updatedTime": run.updated_time,
    }
    if run.result is not None:
        body.update(
            metrics=run.result.get("metrics", {}),
            trades=run.result.get("trades", []),
            equityCurve=run.result.get("equityCurve", []),
        )
    return body


def run_push(run: StrategyRun) -> dict[str, Any]:
    """The socket push of a run's state (progress, then the final result), shaped like the other topics."""
    return {"topic": run_topic(run.run_id), "type": "snapshot", "ts": run.updated_time, "data": run_json(run)}
