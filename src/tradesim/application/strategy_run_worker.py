"""Strategy backtest runs, the worker's side: take queued runs by lease, run them, store the result.

Every worker process with Jesse installed (and `serve`) runs one `StrategyRunWorker`. It
publishes the catalogue its `Backtester` loaded (for the api, which never imports Jesse), then
takes one run at a time: the oldest active run whose lease has lapsed (a queued run has none),
claimed with a lease of `lease_ms` in `strategy_runs`. While the backtest runs (in the
backtester's own process, so this loop stays free), the loop renews the lease and writes the
progress at most every `save_every_s`, both in one conditional write that fails once the run is
cancelled or the lease is lost: then it aborts the backtest. Progress and the final state go to
the run's topic (`strategy-run.{runId}`).

A worker that dies (`kill -9`) stops renewing; when its lease lapses another worker takes the
run and restarts it from the beginning: the run is deterministic, so the result is the same. A
worker that is stopped (SIGTERM) gives its lease up at once, so the run restarts elsewhere
without waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import TypeVar

from tradesim.application.strategy_runs import run_push
from tradesim.domain.errors import Conflict, TradesimError
from tradesim.domain.strategy_runs import StrategyRun
from tradesim.ports.clock import Clock
from tradesim.ports.errors import DependencyUnavailable
from tradesim.ports.strategies import StrategyJob
from tradesim.ports.strategy_runs import Backtester, RunAborted, StrategyCatalogueBoard, StrategyRunUpdates
from tradesim.ports.unit_of_work import UnitOfWorkFactory

log = logging.getLogger(__name__)

T = TypeVar("T")


class StrategyRunWorker:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        backtester: Callable[[], Backtester],
        board: StrategyCatalogueBoard,
        updates: StrategyRunUpdates,
        clock: Clock,
        *,
        owner: str,
        lease_ms: int = 10_000,
        idle_s: float = 0.5,
        tick_s: float = 0.1,
        save_every_s: float = 0.5,
        publish_catalogue_every_s: float = 30.0,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        """`backtester` is called once, when `run` starts (loading strategies takes seconds)."""
        self._uow = uow_factory
        self._make_backtester = backtester
        self._board = board
        self._updates = updates
        self._clock = clock
        self.owner = owner
        self._lease_ms = lease_ms
        self._idle_s = idle_s
        self._tick_s = tick_s
        # Renewed at least four times per lease, so that one slow round never lets it lapse.
        self._save_every_s = min(save_every_s, lease_ms / 4000)
        self._publish_every_s = publish_catalogue_every_s
        self._monotonic = monotonic
        self._sleep = sleep
        #: The run this worker is running now (for tests and logs).
        self.current: str | None = None

    async def run(self, stop: asyncio.Event) -> None:
        backtester = self._make_backtester()
        try:
            next_publish = 0.0
            while not stop.is_set():
                try:
                    if self._monotonic() >= next_publish:
                        # Published again now and then: a Redis that lost its keys gets it back.
                        specs = await _unless_stopped(backtester.specs(), stop)  # the first load takes seconds
                        if specs is None:
                            break
                        await self._board.publish(specs)
                        next_publish = self._monotonic() + self._publish_every_s
                    run = await self._take()
                    if run is None:
                        await _wait(stop, self._idle_s)
                        continue
                    await self._execute(run, backtester, stop)
                except DependencyUnavailable as error:
                    log.warning("strategy runs: %s; retrying", error)
                    await _wait(stop, self._idle_s)
                except TradesimError as error:  # the backtester could not start: never take the worker down
                    log.error("strategy runs: %s; retrying in %g s", error, self._publish_every_s)
                    await _wait(stop, self._publish_every_s)
        finally:
            await backtester.close()

    async def _take(self) -> StrategyRun | None:
        now = self._clock.now_ms()
        async with self._uow() as uow:
            candidates = await uow.strategy_runs.list_claimable(now, limit=5)
        for candidate in candidates:
            try:
                async with self._uow() as uow:
                    if not await uow.strategy_runs.claim(candidate.run_id, self.owner, now, now + self._lease_ms):
                        continue
                    stored = await uow.strategy_runs.get(candidate.run_id)
                    if stored is None or not stored.active:
                        continue
                    started = stored.started(now)
                    await uow.strategy_runs.save(started, self.owner)
                    await uow.commit()
            except Conflict:  # another worker took it between our read and our commit
                continue
            if candidate.owner and candidate.owner != self.owner:
                log.info("strategy run %s: taken over from %s, restarting it", candidate.run_id, candidate.owner)
            await self._publish(started)
            return started
        return None

    async def _execute(self, run: StrategyRun, backtester: Backtester, stop: asyncio.Event) -> None:
        self.current = run.run_id
        job = StrategyJob(
            run_id=run.run_id,
            strategy=run.strategy,
            symbol=run.symbol,
            start_ms=run.start_time,
            end_ms=run.end_time,
            starting_balance=run.starting_balance,
            params=dict(run.hyperparameters),
            timeframe=run.timeframe,
            leverage=run.leverage,
        )
        latest = [run.progress]  # only the last report counts

        def report(done: Decimal) -> None:
            latest[0] = done

        task = asyncio.create_task(backtester.run(job, report))
        stopping = asyncio.create_task(stop.wait())
        state, held, next_save = run, True, self._monotonic() + self._save_every_s
        try:
            while not task.done():
                await asyncio.wait({task, stopping}, timeout=self._tick_s, return_when=asyncio.FIRST_COMPLETED)
                if task.done():
                    break
                if stop.is_set():
                    backtester.abort()
                    break
                if self._monotonic() < next_save:
                    continue
                next_save = self._monotonic() + self._save_every_s
                moved = state.advanced(latest[0], self._clock.now_ms())
                held = await self._renew(moved if moved.progress != state.progress else None)
                if not held:  # cancelled, or the lease was lost: stop working on it
                    backtester.abort()
                    break
                if moved.progress != state.progress:
                    state = moved
                    await self._publish(state)
            await self._conclude(state, task, held, stop)
        finally:
            stopping.cancel()
            if not task.done():
                backtester.abort()
                with contextlib.suppress(BaseException):
                    await task
            self.current = None

    async def _renew(self, progressed: StrategyRun | None) -> bool:
        """Renew the lease (and write the progress) in one go; False when the run is no longer ours to run."""
        now = self._clock.now_ms()
        run_id = progressed.run_id if progressed is not None else self.current
        assert run_id is not None
        try:
            async with self._uow() as uow:
                held = await uow.strategy_runs.claim(run_id, self.owner, now, now + self._lease_ms)
                if held and progressed is not None:
                    held = await uow.strategy_runs.save(progressed, self.owner)
                await uow.commit()
        except Conflict:
            return False
        return held

    async def _conclude(
        self, state: StrategyRun, task: asyncio.Task[dict[str, object]], held: bool, stop: asyncio.Event
    ) -> None:
        try:
            result = await task
        except RunAborted:
            if stop.is_set():
                await self._release(state.run_id)  # another worker restarts it without waiting for the lease
                log.info("strategy run %s: given up (stopping); another worker restarts it", state.run_id)
            elif not held:  # cancelled (or taken over): let it go, and say how it ended
                await self._release(state.run_id)
                await self._announce_stored(state.run_id)
            return
        except TradesimError as error:
            await self._end(state.failed(error.message, self._clock.now_ms()))
            return
        except Exception as error:  # a crash of the backtester itself fails the run, not the worker
            log.exception("strategy run %s: the backtester failed", state.run_id)
            await self._end(
                state.failed(
                    f"the backtest stopped unexpectedly: {type(error).__name__}: {error}", self._clock.now_ms()
                )
            )
            return
        await self._end(state.finished(dict(result), self._clock.now_ms()))

    async def _end(self, final: StrategyRun) -> None:
        async with self._uow() as uow:
            saved = await uow.strategy_runs.save(final, self.owner)
            await uow.strategy_runs.release(final.run_id, self.owner)
            await uow.commit()
        if saved:
            await self._publish(final)
        else:  # cancelled meanwhile (or taken over): what is stored is what counts
            await self._announce_stored(final.run_id)

    async def _release(self, run_id: str) -> None:
        async with self._uow() as uow:
            await uow.strategy_runs.release(run_id, self.owner)
            await uow.commit()

    async def _announce_stored(self, run_id: str) -> None:
        async with self._uow() as uow:
            stored = await uow.strategy_runs.get(run_id)
        if stored is not None and not stored.active:
            await self._publish(stored)

    async def _publish(self, run: StrategyRun) -> None:
        try:
            await self._updates.publish(run.run_id, run_push(run))
        except DependencyUnavailable as error:  # pushes are best effort; the stored run is the truth
            log.warning("strategy run %s: progress not pushed: %s", run.run_id, error)


async def _unless_stopped(work: Awaitable[T], stop: asyncio.Event) -> T | None:
    """`work`'s result, or None (and `work` cancelled) as soon as `stop` is set."""
    task = asyncio.ensure_future(work)
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
    if not task.done():
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return None
    return task.result()


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


__all__ = ["StrategyRunWorker"]
