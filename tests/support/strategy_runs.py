"""A scripted `Backtester` for the strategy-run worker, and the catalogue it claims to have loaded."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from tradesim.domain.errors import InvalidInput
from tradesim.domain.strategy_specs import Hyperparameter, StrategySpec
from tradesim.ports.strategies import StrategyJob
from tradesim.ports.strategy_runs import RunAborted

SPECS = [
    StrategySpec("SmaCross", "builtin", (Hyperparameter("fast", "int", 2, 100, 10),)),
    StrategySpec("Broken", "dir", error="SyntaxError: invalid syntax (line 3)"),
]
RESULT = {
    "metrics": {"total": "2"},
    "trades": [],
    "equityCurve": [[1_706_745_600_000, "10000"]],
}


class ScriptedBacktester:
    """Reports progress in `steps` chunks, each when `release` lets it (so tests decide when a run moves on)."""

    def __init__(self, steps: int = 4, *, fail: str | None = None) -> None:
        self.steps = steps
        self.fail = fail
        self.release = asyncio.Event()
        self.jobs: list[StrategyJob] = []
        self.aborted = 0
        self.closed = False
        self._abort = asyncio.Event()

    async def specs(self) -> list[StrategySpec]:
        return list(SPECS)

    async def run(self, job: StrategyJob, progress: Callable[[Decimal], None]) -> dict[str, Any]:
        self.jobs.append(job)
        self._abort.clear()
        for step in range(1, self.steps + 1):
            while not self.release.is_set():
                if self._abort.is_set():
                    raise RunAborted(job.run_id)
                await asyncio.sleep(0.001)
            if self._abort.is_set():
                raise RunAborted(job.run_id)
            progress(Decimal(step) / Decimal(self.steps))
            await asyncio.sleep(0)
        if self.fail is not None:
            raise InvalidInput(self.fail)
        return dict(RESULT, params=dict(job.params))

    def abort(self) -> None:
        self.aborted += 1
        self._abort.set()

    async def close(self) -> None:
        self.closed = True
