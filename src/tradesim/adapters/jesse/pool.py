"""A `Backtester` that runs Jesse backtests in a child process of its own.

Jesse keeps process-global state, and a backtest is seconds of CPU: run in the worker's own
process it would stall the event loop (leases, the matching engine) and could collide with the
live strategy contexts the worker drives. So one child process (started with ``spawn``: a fork
of a process with an event loop and threads is unsafe) loads Jesse and the catalogue once and
runs one backtest after another. This module imports Jesse only in that child.

Progress comes back on a queue; `abort` sets an event the child checks at every chunk of bars.
The child watches its parent too: when the worker is killed (``kill -9``) the child exits at
its next chunk instead of finishing a run nobody will store.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from decimal import Decimal
from typing import Any

from tradesim.domain.errors import InvalidInput
from tradesim.domain.strategy_specs import StrategySpec
from tradesim.ports.strategies import StrategyJob
from tradesim.ports.strategy_runs import RunAborted

#: Builds, in the child, the runner and the catalogue it runs (a picklable top-level callable).
RunnerFactory = Callable[[], tuple[Any, Any]]


class BacktestFailed(InvalidInput):
    """The backtest could not run or the strategy raised; `code` is the child's error code."""

    def __init__(self, message: str, code: str = "STRATEGY_FAILED") -> None:
        super().__init__(message)
        self.code = code


class JesseProcessBacktester:
    def __init__(self, runner_factory: RunnerFactory, *, poll_s: float = 0.05) -> None:
        self._factory = runner_factory
        self._poll_s = poll_s
        self._context = multiprocessing.get_context("spawn")
        self._progress: Any = self._context.SimpleQueue()
        self._abort = self._context.Event()
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=1,
                mp_context=self._context,
                initializer=_child_init,
                initargs=(self._factory, self._progress, self._abort, os.getpid()),
            )
        return self._pool

    async def specs(self) -> list[StrategySpec]:
        items = await self._call(_child_specs)
        return [StrategySpec.from_dict(item) for item in items]

    async def run(self, job: StrategyJob, progress: Callable[[Decimal], None]) -> dict[str, Any]:
        self._abort.clear()
        self._drain(None)
        future = self._executor().submit(_child_run, job)
        waited = asyncio.wrap_future(future)
        try:
            while not waited.done():
                await asyncio.wait({waited}, timeout=self._poll_s)
                self._drain(progress)
            outcome: dict[str, Any] = self._outcome(future)
        finally:
            if not waited.done():
                self._abort.set()
        self._drain(progress)
        if "aborted" in outcome:
            raise RunAborted(job.run_id)
        if "error" in outcome:
            raise BacktestFailed(outcome["error"], outcome.get("code", "STRATEGY_FAILED"))
        return dict(outcome["result"])

    def abort(self) -> None:
        self._abort.set()

    async def close(self) -> None:
        self._abort.set()
        pool, self._pool = self._pool, None
        if pool is not None:
            # The child holds nothing worth waiting for (the parent stores every result), and it may
            # be seconds into importing Jesse: end it rather than delay the worker's exit.
            for child in list(getattr(pool, "_processes", {}).values()):
                child.terminate()
            pool.shutdown(wait=False, cancel_futures=True)

    async def _call(self, fn: Callable[[], Any]) -> Any:
        future = self._executor().submit(fn)
        await asyncio.wrap_future(future)
        return self._outcome(future)

    def _outcome(self, future: Future[Any]) -> Any:
        try:
            return future.result()
        except BrokenProcessPool:
            self._pool = None  # the next call starts a fresh child
            raise BacktestFailed("the backtest process died (out of memory, or killed)", "BACKTEST_CRASHED") from None

    def _drain(self, progress: Callable[[Decimal], None] | None) -> None:
        latest = None
        while not self._progress.empty():
            latest = self._progress.get()
        if latest is not None and progress is not None:
            progress(Decimal(latest))


class _Aborted(Exception):
    pass


class _Child:
    runner: Any = None
    catalogue: Any = None
    progress: Any = None
    abort: Any = None
    parent: int = 0


def _child_init(factory: RunnerFactory, progress: Any, abort: Any, parent: int) -> None:
    _Child.runner, _Child.catalogue = factory()
    _Child.progress, _Child.abort, _Child.parent = progress, abort, parent


def _child_specs() -> list[dict[str, Any]]:
    return [info.as_dict() for info in _Child.catalogue.list()]


def _child_progress(done: Decimal) -> None:
    if os.getppid() != _Child.parent:
        os._exit(1)  # the worker died: nobody will read this run's result; another worker restarts it
    if _Child.abort.is_set():
        raise _Aborted
    _Child.progress.put(str(done))


def _child_run(job: StrategyJob) -> dict[str, Any]:
    from tradesim.adapters.jesse.backtest import result_as_dict
    from tradesim.domain.errors import TradesimError

    try:
        result = asyncio.run(_Child.runner.run(job, _child_progress))
    except _Aborted:
        return {"aborted": True}
    except TradesimError as error:
        return {"error": error.message, "code": error.code}
    except Exception as error:  # sent back as text: unpickling it could import Jesse into the worker
        return {"error": f"the backtest failed: {type(error).__name__}: {error}", "code": "BACKTEST_ERROR"}
    shaped = result_as_dict(job, result)
    return {"result": {key: shaped[key] for key in ("metrics", "trades", "equityCurve")}}
