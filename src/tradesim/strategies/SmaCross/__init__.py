"""Trend following on two simple moving averages: long while the fast one is above the slow one, short below.

Enters at market on the bar the averages cross, with a stop-loss a fixed percentage away, and
leaves at market on the opposite cross (then enters the other way at once).
"""

from __future__ import annotations

from typing import Any

import jesse.indicators as ta
from jesse import utils
from jesse.strategies import Strategy


class SmaCross(Strategy):  # type: ignore[misc]
    def hyperparameters(self) -> list[dict[str, Any]]:
        return [
            {"name": "fast", "type": int, "min": 2, "max": 100, "default": 10},
            {"name": "slow", "type": int, "min": 5, "max": 400, "default": 30},
            {"name": "stop_percent", "type": float, "min": 0.1, "max": 50.0, "default": 2.0},
            {"name": "size_percent", "type": float, "min": 1.0, "max": 100.0, "default": 10.0},
        ]

    def _cross(self) -> int:
        fast = ta.sma(self.candles, self.hp["fast"], sequential=True)
        slow = ta.sma(self.candles, self.hp["slow"], sequential=True)
        if len(fast) < 2 or fast[-2] != fast[-2] or slow[-2] != slow[-2]:  # NaN until the window fills
            return 0
        if fast[-2] <= slow[-2] and fast[-1] > slow[-1]:
            return 1
        if fast[-2] >= slow[-2] and fast[-1] < slow[-1]:
            return -1
        return 0

    def _qty(self) -> float:
        """The size `size_percent` of the balance buys (zero when that is less than one step: no entry)."""
        return float(utils.size_to_qty(self.balance * self.hp["size_percent"] / 100, self.price))

    def should_long(self) -> bool:
        return self._cross() > 0 and self._qty() > 0

    def should_short(self) -> bool:
        return self._cross() < 0 and self._qty() > 0

    def should_cancel_entry(self) -> bool:
        return True

    def go_long(self) -> None:
        qty = self._qty()
        self.buy = qty, self.price
        self.stop_loss = qty, self.price * (1 - self.hp["stop_percent"] / 100)

    def go_short(self) -> None:
        qty = self._qty()
        self.sell = qty, self.price
        self.stop_loss = qty, self.price * (1 + self.hp["stop_percent"] / 100)

    def update_position(self) -> None:
        cross = self._cross()
        if (self.is_long and cross < 0) or (self.is_short and cross > 0):
            self.liquidate()
