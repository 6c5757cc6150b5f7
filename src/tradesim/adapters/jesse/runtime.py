"""Many strategy contexts in one process, on one matching engine, fed one closed 1m bar at a time.

For each bar of a symbol: every context on that symbol gets the bar in its candle store; the
engine plays the bar on Bar Replay's path (open, the extremes, close: `domain.replay.bar_ticks`)
and each event goes back to the context whose account it concerns; then every context whose
timeframe just closed decides. When nothing of any context on the symbol lies within the bar's
range (no order price or trigger, no liquidation price), no point of the path could change
anything: the engine then sees only the close, and only when a context decides on it (its market
orders fill there).

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
from tradesim.adapters.jesse.grid import snap_price
from tradesim.adapters.jesse.spec import ContextSpec
from tradesim.domain.engine import MatchingEngine
from tradesim.domain.events import EngineEvent
from tradesim.domain.instruments import InstrumentCatalog
from tradesim.domain.market import Candle, Ticker
from tradesim.domain.numbers import ZERO
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
        self._first_sample = _NEVER  # the earliest of `_next_sample`: most bars need not look at each
        # Last closes the engine has not been given yet (exact, or Jesse's float of a price on the grid).
        self._close: dict[str, tuple[Decimal | float, int]] = {}
        self._later: list[EngineEvent] = []
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
        ctx = StrategyContext(spec, instrument, self.engine, self.record, self._price_for_order)
        install_driver()
        try:
            ctx.start(warmup, start_ms)
        except Exception as error:
            jesse_state.deactivate()
            raise StrategyFailed(describe_failure(spec, error)) from error
        self.contexts[spec.key] = ctx
        self._by_account[spec.account_id] = ctx
        self._by_symbol[spec.symbol].append(ctx)
        self._next_sample[spec.key] = start_ms - start_ms % DAY_MS + DAY_MS
        self._first_sample = min(self._first_sample, self._next_sample[spec.key])
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
        self._later = []
        self._guard(ctx, ctx.terminate)
        if self._later:
            later, self._later = self._later, []
            self._dispatch(later)

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
        if row is None:
            o, h, lo, c = prices
            row = np.array([open_time, float(o), float(c), float(h), float(lo), float(volume)])
        return self._bar(symbol, row, prices, volume)

    def on_row(self, symbol: str, row: np.ndarray) -> list[StrategyContext]:
        """`on_bar` for a bar given only as Jesse's float row (a backtest's, on the tick grid).

        The exact prices the engine needs are made from the floats only when it needs them.
        """
        return self._bar(symbol, row, None, None)

    def _bar(
        self,
        symbol: str,
        row: np.ndarray,
        prices: tuple[Decimal, Decimal, Decimal, Decimal] | None,
        volume: Decimal | None,
    ) -> list[StrategyContext]:
        contexts = self._by_symbol.get(symbol)
        if not contexts:
            return []
        install_driver()
        open_time = int(row[0])
        close_ms = open_time + MINUTE_MS
        low, high = row[4], row[3]
        due: list[StrategyContext] = []
        reachable = False
        for ctx in tuple(contexts):
            jesse_state.activate(ctx.state)
            try:
                if ctx.add_bar(row, close_ms):
                    due.append(ctx)
            except Exception as error:
                self._fail(ctx, error)
                continue
            if not reachable:
                below, above = ctx.thresholds()
                reachable = bool((below and low <= max(below)) or (above and high >= min(above)))
        if reachable:
            self._close.pop(symbol, None)
            if prices is None:
                tick = contexts[0].instrument.tick_size
                prices = (
                    snap_price(row[1], tick),
                    snap_price(row[3], tick),
                    snap_price(row[4], tick),
                    snap_price(row[2], tick),
                )
            o, h, lo, c = prices
            for ticker in bar_ticks(Candle(symbol, open_time, o, h, lo, c, volume or ZERO)):
                self.clock.now = ticker.ts
                events = self.engine.on_ticker(ticker)
                if events:
                    if self.record is not None:
                        self.record.extend(events)
                    self._dispatch(events)
        else:
            # Nothing rests within reach: the engine needs this close only if an order is placed on it.
            self._close[symbol] = (prices[3] if prices is not None else float(row[2]), close_ms - 1)
        self.clock.now = close_ms - 1
        decided = []
        self._later = []
        for ctx in due:
            if ctx.spec.key not in self.contexts:
                continue
            self._activate(ctx)
            if self._guard(ctx, ctx.execute) is not _FAILED:
                decided.append(ctx)
        if self._later:
            later, self._later = self._later, []
            self._dispatch(later)
        if close_ms >= self._first_sample:
            for ctx in tuple(contexts):
                key = ctx.spec.key
                if close_ms >= self._next_sample.get(key, close_ms + 1):
                    self._next_sample[key] += DAY_MS
                    self._activate(ctx)
                    ctx.sample_balance()
            self._first_sample = min(self._next_sample.values(), default=_NEVER)
        return decided

    def quiet_run(self, symbol: str, rows: np.ndarray, start: int, stop: int) -> int:
        """Add bars ``rows[start:stop]`` of `symbol` in bulk for as long as nothing can happen; returns how many.

        `rows` are contiguous 1m bars in Jesse's layout. The stretch ends before the first bar on
        which a context decides or samples its balance, or whose range reaches one of its orders or
        its liquidation price: that bar goes through `on_bar`. A backtest is mostly such stretches
        (between two decisions of a 1h strategy, with its stop-loss far away).
        """
        contexts = self._by_symbol.get(symbol)
        if not contexts or start >= stop:
            return 0
        first_open = int(rows[start, 0])
        end = min(stop, start + max(0, (self._first_sample - MINUTE_MS - first_open) // MINUTE_MS))
        for ctx in contexts:
            end = min(end, start + (ctx.next_due(first_open) - first_open) // MINUTE_MS)
        if end <= start:
            return 0
        below: list[float] = []
        above: list[float] = []
        for ctx in contexts:
            low, high = ctx.thresholds()
            below += low
            above += high
        window = rows[start:end]
        hit = np.zeros(len(window), dtype=bool)
        if below:
            hit |= window[:, 4] <= max(below)
        if above:
            hit |= window[:, 3] >= min(above)
        if hit.any():
            end = start + int(np.argmax(hit))
            if end <= start:
                return 0
            window = rows[start:end]
        for ctx in tuple(contexts):
            self._activate(ctx)
            self._guard(ctx, lambda ctx=ctx: ctx.add_rows(window))  # type: ignore[misc]
        close_ms = int(window[-1, 0]) + MINUTE_MS
        self.clock.now = close_ms - 1
        self._close[symbol] = (float(window[-1, 2]), close_ms - 1)
        return end - start

    def _price_for_order(self, symbol: str) -> None:
        """Give the engine the last bar's close of `symbol` before an order on it (see `on_bar`).

        Nothing of any context rested within that bar's range, so the close changes nothing by
        itself; should it still produce events, they are applied once the running context is done.
        """
        pending = self._close.pop(symbol, None)
        if pending is None:
            return
        close, ts = pending
        price = close if isinstance(close, Decimal) else snap_price(close, self.catalog.get(symbol).tick_size)
        self.clock.now = ts
        events = self.engine.on_ticker(Ticker(symbol, price, price, price, price, ts))
        if events:
            if self.record is not None:
                self.record.extend(events)
            self._later.extend(events)

    def _dispatch(self, events: list[EngineEvent]) -> None:
        per_account: dict[str, list[EngineEvent]] = {}
        for event in events:
            per_account.setdefault(event.account_id, []).append(event)
        for account_id, own in per_account.items():
            ctx = self._by_account.get(account_id)
            if ctx is not None:
                self._activate(ctx)
                self._guard(ctx, lambda ctx=ctx, own=own: ctx.orders.apply(own))  # type: ignore[misc]

    def _guard(self, ctx: StrategyContext, action: Callable[[], Any]) -> Any:
        try:
            return action()
        except Exception as error:
            self._fail(ctx, error)
            return _FAILED

    def _fail(self, ctx: StrategyContext, error: Exception) -> None:
        message = describe_failure(ctx.spec, error)
        log.warning("strategy context %s failed: %s", ctx.spec.key, message)
        ctx.error = message
        self.failed[ctx.spec.key] = message
        self.remove(ctx.spec.key)


_FAILED = object()
_NEVER = 2**63


def describe_failure(spec: ContextSpec, error: BaseException) -> str:
    """ "strategy X raised E in should_long (file:line): message": the deepest frame in the strategy's own file."""
    module = sys.modules.get(spec.strategy.__module__)
    source = getattr(module, "__file__", None)
    frames = traceback.extract_tb(error.__traceback__)
    own = [f for f in frames if source is not None and f.filename == source]
    frame = own[-1] if own else (frames[-1] if frames else None)
    place = f" in {frame.name} ({frame.filename}:{frame.lineno})" if frame is not None else ""
    return f"strategy {spec.strategy_name} raised {type(error).__name__}{place}: {error}"
