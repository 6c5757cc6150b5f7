"""A strategy backtest run: its record and its state machine.

A run is queued by a user, leased by one worker at a time (`owner`, `lease_until`, as replay
sessions are), and ends finished, failed or cancelled. A worker that dies leaves its lease to
lapse; the next worker restarts the run from its beginning (a backtest is deterministic, so the
result is the same). Which status may follow which is one explicit table.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal
from enum import StrEnum
from typing import Any, Final

import attrs

from tradesim.domain.errors import Conflict, InvalidInput, TradesimError
from tradesim.domain.strategy_specs import check_timeframe


class RunStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"
    CANCELLED = "cancelled"


TERMINAL: Final = frozenset({RunStatus.FINISHED, RunStatus.FAILED, RunStatus.CANCELLED})

#: status -> the statuses it may move to. RUNNING -> RUNNING is a worker taking over a run whose
#: previous worker's lease lapsed: it starts again from zero.
TRANSITIONS: Final[dict[RunStatus, frozenset[RunStatus]]] = {
    RunStatus.QUEUED: frozenset({RunStatus.RUNNING, RunStatus.CANCELLED}),
    RunStatus.RUNNING: frozenset({RunStatus.RUNNING, RunStatus.FINISHED, RunStatus.FAILED, RunStatus.CANCELLED}),
    RunStatus.FINISHED: frozenset(),
    RunStatus.FAILED: frozenset(),
    RunStatus.CANCELLED: frozenset(),
}

ZERO: Final = Decimal(0)
ONE: Final = Decimal(1)
#: Progress is reported to a ten-thousandth; finer steps only make writes nobody sees.
PROGRESS_STEP: Final = Decimal("0.0001")


class RunNotActive(Conflict):
    """The run has ended (finished, failed or cancelled): it cannot change any more."""

    code = "RUN_NOT_ACTIVE"


class InvalidRunTransition(TradesimError):
    """A bug: code tried to move a run along an edge the state machine lacks."""

    code = "INVALID_RUN_TRANSITION"


@attrs.frozen(slots=True)
class StrategyRun:
    """`hyperparameters` are typed as the strategy declares them; `result` is the finished run's
    ``{"metrics", "trades", "equityCurve"}`` with every number a decimal string."""

    run_id: str
    user_id: str
    strategy: str
    symbol: str
    timeframe: str
    start_time: int
    end_time: int
    starting_balance: Decimal
    leverage: int
    hyperparameters: dict[str, Any]
    status: RunStatus
    progress: Decimal
    error: str | None
    result: dict[str, Any] | None
    created_time: int
    updated_time: int
    owner: str = ""
    lease_until: int = 0

    def __attrs_post_init__(self) -> None:
        check_timeframe(self.timeframe)
        if self.end_time <= self.start_time:
            raise InvalidInput("end must be after start")
        if not self.starting_balance > 0:
            raise InvalidInput("startingBalance must be positive")
        if self.leverage < 1:
            raise InvalidInput("leverage must be at least 1")
        if not ZERO <= self.progress <= ONE:
            raise InvalidInput(f"progress must be between 0 and 1, got {self.progress}")

    @classmethod
    def queued(
        cls,
        run_id: str,
        user_id: str,
        strategy: str,
        symbol: str,
        timeframe: str,
        start_time: int,
        end_time: int,
        starting_balance: Decimal,
        leverage: int,
        hyperparameters: dict[str, Any],
        now_ms: int,
    ) -> StrategyRun:
        return cls(
            run_id,
            user_id,
            strategy,
            symbol,
            timeframe,
            start_time,
            end_time,
            starting_balance,
            leverage,
            dict(hyperparameters),
            RunStatus.QUEUED,
            ZERO,
            None,
            None,
            now_ms,
            now_ms,
        )

    @property
    def active(self) -> bool:
        return self.status not in TERMINAL

    def _to(self, status: RunStatus, now_ms: int, **changes: Any) -> StrategyRun:
        if status not in TRANSITIONS[self.status]:
            if not self.active:
                raise RunNotActive(f"strategy run {self.run_id} is {self.status.value} already")
            raise InvalidRunTransition(f"strategy run {self.run_id}: {self.status.value} -> {status.value}")
        return attrs.evolve(self, status=status, updated_time=now_ms, **changes)

    def started(self, now_ms: int) -> StrategyRun:
        """Taken by a worker: running from zero (a run taken over starts again)."""
        return self._to(RunStatus.RUNNING, now_ms, progress=ZERO, error=None, result=None)

    def advanced(self, progress: Decimal, now_ms: int) -> StrategyRun:
        if self.status is not RunStatus.RUNNING:
            raise InvalidRunTransition(f"strategy run {self.run_id} reports progress while {self.status.value}")
        bounded = min(max(progress, ZERO), ONE).quantize(PROGRESS_STEP, rounding=ROUND_DOWN)
        return attrs.evolve(self, progress=bounded, updated_time=now_ms)

    def finished(self, result: dict[str, Any], now_ms: int) -> StrategyRun:
        return self._to(RunStatus.FINISHED, now_ms, progress=ONE, result=result)

    def failed(self, error: str, now_ms: int) -> StrategyRun:
        return self._to(RunStatus.FAILED, now_ms, error=error)

    def cancelled(self, now_ms: int) -> StrategyRun:
        return self._to(RunStatus.CANCELLED, now_ms)


def run_topic(run_id: str) -> str:
    """The WebSocket topic (and bus channel) of a run's progress."""
    return f"strategy-run.{run_id}"
