"""Many strategy contexts in one process, on one matching engine, fed one closed 1m bar at a time.

For each bar of a symbol: every context on that symbol gets the bar in its candle store; the
engine plays the bar on Bar Replay's path (open, the extremes, close: `domain.replay.bar_ticks`)
and each event goes back to the context whose account it concerns; then every context whose
timeframe just closed decides. When no context on the symbol holds a position or a resting order
nothing can fill inside the bar, so the engine sees only the close (where market orders fill).

A strategy that raises fails its own context only: it is removed, its error says where.
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import jesse.helpers as jh
import numpy as np

from tradesim.adapters.jesse import state as jesse_state
from tradesim.adapters.jesse.context import StrategyContext
from tradesim.adapters.jesse.driver import install as install_driver
from tradesim.adapters.jesse.spec import ContextSpec
from tradesim.domain.engine import MatchingEngine
from tradesim.domain.events import EngineEvent
from tradesim.domain.instruments import InstrumentCatalog
from tradesim.domain.market import Candle, Ticker
from tradesim.domain.replay import ManualClock, bar_ticks

log = logging.getLogger(__name__)

MINUTE_MS = 60_000
DAY_MS = 86_400_000


class StrategyFailed(Exception):
    """A strategy raised; the message names the strategy, the method and the line."""


class JesseRuntime:
    """See the module docstring. Not thread-safe: one runtime, one caller."""

    def __init__(
        self,
        engine: MatchingEngine,
        clock: ManualClock,
        catalog: InstrumentCatalog,
        *,
        record: list[EngineEvent] | None = None,
    ) -> None:
        """`record`, when given, receives every engine event of the runtime's contexts (tests, ledgers)."""
        self.engine = engine
        self.record = record
        self.clock = clock
        self.catalog = catalog
        self.contexts: dict[str, StrategyContext] = {}
        self.failed: dict[str, str] = {}
        self._by_account: dict[str, StrategyContext] = {}
        self._by_symbol: dict[str, list[StrategyContext]] = defaultdict(list)
        self._next_sample: dict[str, int] = {}
        jesse_state.fresh()
        jh.clear_config_caches()  # the mode helpers are cached per process: every context is 'backtest'

    @staticmethod
    def _activate(ctx: StrategyContext) -> None:
        # Always through `activate`: another runtime in this process may have swapped in its own state.
        jesse_state.activate(ctx.state)

    # -- contexts ---------------------------------------------------------------------------------

    def add(self, spec: ContextSpec, *, start_ms: int, warmup: np.ndarray | None = None) -> StrategyContext:
        """Start a context on an account the engine already has.

        Raises `StrategyFailed` when the strategy cannot start (its constructor or warm-up raised).
        """
        if spec.key in self.contexts:
            raise ValueError(f"a context named {spec.key!r} is already running")
        if spec.account_id in self._by_account:
            raise ValueError(f"account {spec.account_id!r} already runs a strategy")
        instrument = self.catalog.get(spec.symbol)
        ctx = StrategyContext(spec, instrument, self.engine, self.record)
        install_driver()
        try:
            ctx.start(warmup, start_ms)
        except Exception as error:
            jesse_state.deactivate()
            raise StrategyFailed(_where(spec, error)) from error
        self.contexts[spec.key] = ctx
        self._by_account[spec.account_id] = ctx
        self._by_symbol[spec.symbol].append(ctx)
        self._next_sample[spec.key] = start_ms - start_ms % DAY_MS + DAY_MS
        return ctx

    def remove(self, key: str) -> StrategyContext | None:
        ctx = self.contexts.pop(key, None)
        if ctx is None:
            return None
        self._by_account.pop(ctx.spec.account_id, None)
        self._by_symbol[ctx.spec.symbol].remove(ctx)
        self._next_sample.pop(key, None)
        if jesse_state.is_active(ctx.state):
            jesse_state.deactivate()
        return ctx

    def terminate(self, key: str) -> None:
        """End a backtest context the way Jesse ends a backtest (pending entries cancelled, position closed)."""
        ctx = self.contexts[key]
        install_driver()
        self._activate(ctx)
        self._guard(ctx, ctx.terminate)

    def run(self, ctx: StrategyContext, action: Callable[[], Any]) -> Any:
        """Run `action` with `ctx`'s Jesse state live (results, metrics, ...)."""
        self._activate(ctx)
        return action()

    # -- the bar loop ----------------------------------------------------------------------------

    def on_bar(
        self,
        symbol: str,
        open_time: int,
        prices: tuple[Decimal, Decimal, Decimal, Decimal],
        volume: Decimal,
        row: np.ndarray | None = None,
    ) -> list[StrategyContext]:
        """One closed 1m bar of `symbol` (`prices` = open, high, low, close); returns the contexts that decided.

        `row` is the bar in Jesse's float layout ``[time, open, close, high, low, volume]`` when the
        caller has it already.
        """
        contexts = self._by_symbol.get(symbol)
        if not contexts:
            return []
        install_driver()
        close_ms = open_time + MINUTE_MS
        if row is None:
            o, h, lo, c = prices
            row = np.array([open_time, float(o), float(c), float(h), float(lo), float(volume)])
        due: list[StrategyContext] = []
        exposed = False
        for ctx in tuple(contexts):
            self._activate(ctx)
            if self._guard(ctx, lambda ctx=ctx: ctx.add_bar(row, close_ms)):  # type: ignore[misc]
                due.append(ctx)
            exposed = exposed or ctx.exposed
        if exposed:
            o, h, lo, c = prices
            tickers = bar_ticks(Candle(symbol, open_time, o, h, lo, c, volume))
        else:
            close = prices[3]
            tickers = [Ticker(symbol, close, close, close, close, close_ms - 1)]
        for ticker in tickers:
            self.clock.now = ticker.ts
            events = self.engine.on_ticker(ticker)
            if events:
                if self.record is not None:
                    self.record.extend(events)
                self._dispatch(events)
        decided = []
        for ctx in due:
            if ctx.spec.key not in self.contexts:
                continue
            self._activate(ctx)
            if self._guard(ctx, ctx.execute) is not _FAILED:
                decided.append(ctx)
        for ctx in tuple(contexts):
            key = ctx.spec.key
            if close_ms >= self._next_sample.get(key, close_ms + 1):
                self._next_sample[key] += DAY_MS
                self._activate(ctx)
                ctx.sample_balance()
        return decided

    def _dispatch(self, events: list[EngineEvent]) -> None:
        per_account: dict[str, list[EngineEvent]] = {}
        for event in events:
            per_account.setdefault(event.account_id, []).append(event)
        for account_id, own in per_account.items():
            ctx = self._by_account.get(account_id)
            if ctx is not None:
                self._activate(ctx)
                self._guard(ctx, lambda ctx=ctx, own=own: ctx.apply(own))  # type: ignore[misc]

    def _guard(self, ctx: StrategyContext, action: Callable[[], Any]) -> Any:
        try:
            return action()
        except Exception as error:
            message = _where(ctx.spec, error)
            log.warning("strategy context %s failed: %s", ctx.spec.key, message)
            ctx.error = message
            self.failed[ctx.spec.key] = message
            self.remove(ctx.spec.key)
            return _FAILED


_FAILED = object()


def _where(spec: ContextSpec, error: BaseException) -> str:
    """ "strategy X raised E in should_long (file:line): message": the deepest frame in the strategy's own file."""
    module = sys.modules.get(spec.strategy.__module__)
    source = getattr(module, "__file__", None)
    frames = traceback.extract_tb(error.__traceback__)
    own = [f for f in frames if source is not None and f.filename == source]
    frame = own[-1] if own else (frames[-1] if frames else None)
    place = f" in {frame.name} ({frame.filename}:{frame.lineno})" if frame is not None else ""
    return f"strategy {spec.strategy_name} raised {type(error).__name__}{place}: {error}"
