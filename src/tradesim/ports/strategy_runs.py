"""Strategy backtest runs: their repository, the catalogue workers publish, and their progress bus."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any, Protocol

from tradesim.domain.strategy_runs import StrategyRun
from tradesim.domain.strategy_specs import StrategySpec
from tradesim.ports.messaging import Subscription
from tradesim.ports.strategies import StrategyJob


class StrategyRunRepository(Protocol):
    """Runs by id. The lease columns (`owner`, `lease_until`) change only through `claim` and
    `release`; a worker writes a run only while it holds the lease and the run is active, so a
    worker whose lease lapsed (or a run the user cancelled) can never be overwritten."""

    async def add(self, run: StrategyRun) -> None:
        """Raises `Conflict` when the id exists."""
        ...

    async def get(self, run_id: str) -> StrategyRun | None: ...

    async def list_by_user(self, user_id: str, *, limit: int = 100) -> list[StrategyRun]:
        """Newest first."""
        ...

    async def count_active(self, user_id: str) -> int:
        """The user's runs queued or running."""
        ...

    async def list_claimable(self, now_ms: int, *, limit: int = 10) -> list[StrategyRun]:
        """Active runs whose lease has lapsed (`lease_until <= now_ms`; a queued run has none), oldest first."""
        ...

    async def claim(self, run_id: str, owner: str, now_ms: int, until_ms: int) -> bool:
        """Take or renew the lease of an active run: succeeds when the lease lapsed or `owner` holds it."""
        ...

    async def save(self, run: StrategyRun, holder: str) -> bool:
        """Write status, progress, error, result and updated time, only if `holder` holds the
        lease and the stored run is still active; False otherwise (nothing written)."""
        ...

    async def cancel(self, run_id: str, now_ms: int) -> bool:
        """Mark an active run cancelled (whoever holds it); False when it had ended already."""
        ...

    async def release(self, run_id: str, owner: str) -> None:
        """Give the lease up (owner '' and lease_until 0) if `owner` holds it."""
        ...


class StrategyCatalogueBoard(Protocol):
    """Where workers publish the catalogue they loaded, for the api (which never imports Jesse)."""

    async def publish(self, specs: Sequence[StrategySpec]) -> None: ...

    async def read(self) -> list[StrategySpec] | None:
        """The last published catalogue; None when no worker has published one."""
        ...


class StrategyRunUpdates(Protocol):
    """Fan-out of a run's progress and final state on ``strategy-run.{runId}``: best effort, nothing stored."""

    async def publish(self, run_id: str, message: dict[str, Any]) -> None: ...

    def subscribe(self, run_id: str) -> Subscription[dict[str, Any]]: ...


class RunAborted(Exception):
    """The backtest stopped because `Backtester.abort` was called (cancelled, lease lost, shutting down)."""


class Backtester(Protocol):
    """Runs one backtest at a time, away from the caller's event loop (Jesse's state is process-global).

    `run` returns the run's ``{"metrics", "trades", "equityCurve"}`` (decimal strings); it raises
    `RunAborted` after `abort()`, `InvalidInput` / `NotFound` for a job that cannot run, and
    `StrategyRunFailed`-like `InvalidInput` subclasses when the strategy raised.
    """

    async def specs(self) -> list[StrategySpec]:
        """The catalogue this backtester loaded (broken strategies included, with their error)."""
        ...

    async def run(self, job: StrategyJob, progress: Callable[[Decimal], None]) -> dict[str, Any]:
        """`progress` is called on the caller's loop with the fraction done, at most every chunk of bars."""
        ...

    def abort(self) -> None:
        """Stop the running backtest at its next chunk of bars (`run` raises `RunAborted`)."""
        ...

    async def close(self) -> None: ...
