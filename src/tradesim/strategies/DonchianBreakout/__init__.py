"""Breakout: long when the close clears the highest high of the last `entry_period` bars, short below the lowest low.

Exits at market when the close crosses the opposite channel of the shorter `exit_period`, or at
the stop-loss placed on entry.
"""

from __future__ import annotations

from typing import Any

from jesse import utils
from jesse.strategies import Strategy


class DonchianBreakout(Strategy):  # type: ignore[misc]
    def hyperparameters(self) -> list[dict[str, Any]]:
        return [
            {"name": "entry_period", "type": int, "min": 5, "max": 200, "default": 20},
            {"name": "exit_period", "type": int, "min": 2, "max": 100, "default": 10},
            {"name": "stop_percent", "type": float, "min": 0.1, "max": 50.0, "default": 3.0},
            {"name": "size_percent", "type": float, "min": 1.0, "max": 100.0, "default": 10.0},
        ]

    def _channel(self, period: int) -> tuple[float, float] | None:
        previous = self.candles[-period - 1 : -1]  # the bars before this one
        if len(previous) < period:
            return None
        return float(previous[:, 3].max()), float(previous[:, 4].min())

    def _qty(self) -> float:
        """The size `size_percent` of the balance buys (zero when that is less than one step: no entry)."""
        return float(utils.size_to_qty(self.balance * self.hp["size_percent"] / 100, self.price))

    def should_long(self) -> bool:
        channel = self._channel(self.hp["entry_period"])
        return channel is not None and self.close > channel[0] and self._qty() > 0

    def should_short(self) -> bool:
        channel = self._channel(self.hp["entry_period"])
        return channel is not None and self.close < channel[1] and self._qty() > 0

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
        channel = self._channel(self.hp["exit_period"])
        if channel is None:
            return
        if (self.is_long and self.close < channel[1]) or (self.is_short and self.close > channel[0]):
            self.liquidate()
