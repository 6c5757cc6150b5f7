"""The SMA(10/30)-cross rule both benchmark implementations run, in exact integer arithmetic.

Closes are counted in ticks (integers), so the tradesim side (Decimal prices) and the Jesse side
(float prices, converted back with ``round(price / tick)``) see exactly the same numbers and take
exactly the same decisions. Nothing here imports tradesim or jesse.

The strategy, decided at every bar's close:
- a cross up (SMA10 moves above SMA30) closes a short and opens a long; a cross down the reverse;
- every entry is a market order of a fixed quantity with a stop-loss 2% beyond the entry
  (the signal bar's close), rounded away from the price onto the tick grid;
- after a stop-out the strategy stays flat until the next cross.
"""

from __future__ import annotations

from collections import deque

FAST = 10
SLOW = 30
STOP_PERCENT = 2


class SmaCross:
    """Feeds closes one bar at a time; `update` returns +1 on a cross up, -1 on a cross down, else 0.

    SMA10 > SMA30 is tested as ``sum10 * 30 > sum30 * 10``, exactly. The first bar with a full
    slow window sets the state without signalling; equal averages keep the previous state.
    """

    __slots__ = ("_closes", "_fast_sum", "_slow_sum", "_state")

    def __init__(self) -> None:
        self._closes: deque[int] = deque(maxlen=SLOW)
        self._fast_sum = 0
        self._slow_sum = 0
        self._state = 0  # 0 until the slow window is full, then +1 (fast above) or -1 (fast below)

    def update(self, close: int) -> int:
        closes = self._closes
        if len(closes) >= FAST:
            self._fast_sum -= closes[-FAST]
        if len(closes) == SLOW:
            self._slow_sum -= closes[0]
        closes.append(close)
        self._fast_sum += close
        self._slow_sum += close
        if len(closes) < SLOW:
            return 0
        diff = self._fast_sum * SLOW - self._slow_sum * FAST
        previous = self._state
        state = 1 if diff > 0 else -1 if diff < 0 else previous
        self._state = state
        return state if previous and state != previous else 0


def stop_ticks(entry_ticks: int, direction: int) -> int:
    """The stop-loss 2% below a long's entry (rounded down) or above a short's (rounded up), in ticks."""
    if direction > 0:
        return entry_ticks * (100 - STOP_PERCENT) // 100
    return -(-entry_ticks * (100 + STOP_PERCENT) // 100)
