"""The same SMA(10/30)-cross strategy run by `jesse.research.backtest`, in a process of its own.

Jesse keeps process-global state (its store, router and config), so the benchmark never imports
it: `engine.py` starts a fresh process (multiprocessing, spawn) that calls `run` here, and only
this function imports jesse. The candles arrive as integer columns (prices in ticks) and become
Jesse's float array ``[timestamp_ms, open, close, high, low, volume]`` here.

The strategy computes its SMAs with `sma_cross.SmaCross` on closes converted back to integer
ticks, so its decisions are exactly those of the tradesim side: entries in ``go_long`` /
``go_short`` with ``self.buy`` / ``self.sell`` at the current price (a market order) and
``self.stop_loss`` 2% away; ``update_position`` calls ``self.liquidate()`` on the opposite cross.
"""

from __future__ import annotations

import os
import time
from typing import Any

from sma_cross import SmaCross, stop_ticks

EXCHANGE = "Bybit USDT Perpetual"
SYMBOL = "BTC-USDT"


def run(job: dict[str, Any]) -> dict[str, Any]:
    """Run the backtest described by `job` (see `engine.py`) and return its figures and timings."""
    started = time.perf_counter()
    import numpy as np
    from jesse import research
    from jesse.strategies import Strategy

    import_seconds = time.perf_counter() - started
    scale: int = job["ticks_per_unit"]  # 10 for a 0.1 tick: price = ticks / scale
    qty = float(job["qty"])
    warmup: int = job["warmup"]
    counts = {"entries": 0, "signal_exits": 0, "stop_exits": 0, "end_exits": 0, "primed": 0}

    class SmaCrossStrategy(Strategy):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.signal = SmaCross()
            self.cross = 0
            self.primed = False
            self.closing = ""  # why the next close happens: "" (its stop-loss) or a key of `counts`

        def before(self) -> None:
            if not self.primed:
                history = self.candles[:-1, 2]  # the warm-up candles Jesse was given
                for close in history:
                    self.signal.update(round(close * scale))
                counts["primed"] = len(history)
                self.primed = True
            self.cross = self.signal.update(round(self.close * scale))

        def should_long(self) -> bool:
            return self.cross > 0

        def should_short(self) -> bool:
            return self.cross < 0

        def should_cancel_entry(self) -> bool:
            return False

        def go_long(self) -> None:
            self.enter(1)

        def go_short(self) -> None:
            self.enter(-1)

        def enter(self, direction: int) -> None:
            counts["entries"] += 1
            order = (qty, self.price)
            if direction > 0:
                self.buy = order
            else:
                self.sell = order
            self.stop_loss = qty, stop_ticks(round(self.close * scale), direction) / scale

        def update_position(self) -> None:
            if (self.is_long and self.cross < 0) or (self.is_short and self.cross > 0):
                self.closing = "signal_exits"
                self.liquidate()

        def on_close_position(self, order: Any, closed_trade: Any) -> None:
            counts[self.closing or "stop_exits"] += 1
            self.closing = ""

        def before_terminate(self) -> None:
            self.closing = "end_exits"  # Jesse closes a position still open when the candles run out

    times = np.asarray(job["open_time"], dtype=np.float64)
    columns = [np.asarray(job[name], dtype=np.float64) / scale for name in ("open", "close", "high", "low")]
    array = np.column_stack([times, *columns, np.asarray(job["volume"], dtype=np.float64)])
    key = f"{EXCHANGE}-{SYMBOL}"
    config = {
        "starting_balance": job["balance"],
        "fee": job["fee"],
        "type": "futures",
        "futures_leverage": job["leverage"],
        "futures_leverage_mode": "cross",
        "exchange": EXCHANGE,
        "warm_up_candles": warmup,
    }
    routes = [{"exchange": EXCHANGE, "strategy": SmaCrossStrategy, "symbol": SYMBOL, "timeframe": "1m"}]
    trading = {key: {"exchange": EXCHANGE, "symbol": SYMBOL, "candles": array[warmup:]}}
    warmup_candles = {key: {"exchange": EXCHANGE, "symbol": SYMBOL, "candles": array[:warmup]}}
    # Jesse writes its storage/ folder (logs, charts) under the working directory.
    os.chdir(job["workdir"])
    cpu_started = time.process_time()
    started = time.perf_counter()
    result = research.backtest(
        config, routes, [], trading, warmup_candles, fast_mode=job["fast_mode"], generate_logs=False
    )
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    metrics = result["metrics"]
    return {
        "candles": len(array) - warmup,
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "import_seconds": import_seconds,
        "trades": int(metrics.get("total", 0)),
        "net_profit": float(metrics.get("net_profit", 0.0)),
        "fast_mode": job["fast_mode"],
        **counts,
    }
