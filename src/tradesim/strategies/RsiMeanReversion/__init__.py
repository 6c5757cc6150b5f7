"""Mean reversion on RSI: long when RSI falls below `oversold`, short above `overbought`, out when it returns to 50.

Each entry carries a stop-loss and a take-profit a fixed percentage away.
"""

from __future__ import annotations

from typing import Any

import jesse.indicators as ta
from jesse import utils
from jesse.strategies import Strategy


class RsiMeanReversion(Strategy):  # type: ignore[misc]
    def hyperparameters(self) -> list[dict[str, Any]]:
        return [
            {"name": "period", "type": int, "min": 2, "max": 100, "default": 14},
            {"name": "oversold", "type": float, "min": 1.0, "max": 49.0, "default": 30.0},
            {"name": "overbought", "type": float, "min": 51.0, "max": 99.0, "default": 70.0},
            {"name": "stop_percent", "type": float, "min": 0.1, "max": 50.0, "default": 2.0},
            {"name": "take_percent", "type": float, "min": 0.1, "max": 50.0, "default": 3.0},
            {"name": "size_percent", "type": float, "min": 1.0, "max": 100.0, "default": 10.0},
        ]

    def _rsi(self) -> float:
        return float(ta.rsi(self.candles, self.hp["period"]))

    def _qty(self) -> float:
        """The size `size_percent` of the balance buys (zero when that is less than one step: no entry)."""
        return float(utils.size_to_qty(self.balance * self.hp["size_percent"] / 100, self.price))

    def should_long(self) -> bool:
        return bool(self._rsi() < self.hp["oversold"]) and self._qty() > 0

    def should_short(self) -> bool:
        return bool(self._rsi() > self.hp["overbought"]) and self._qty() > 0

    def should_cancel_entry(self) -> bool:
        return True

    def go_long(self) -> None:
        qty = self._qty()
        self.buy = qty, self.price
        self.stop_loss = qty, self.price * (1 - self.hp["stop_percent"] / 100)
        self.take_profit = qty, self.price * (1 + self.hp["take_percent"] / 100)

    def go_short(self) -> None:
        qty = self._qty()
        self.sell = qty, self.price
        self.stop_loss = qty, self.price * (1 + self.hp["stop_percent"] / 100)
        self.take_profit = qty, self.price * (1 - self.hp["take_percent"] / 100)

    def update_position(self) -> None:
        rsi = self._rsi()
        if (self.is_long and rsi >= 50) or (self.is_short and rsi <= 50):
            self.liquidate()
