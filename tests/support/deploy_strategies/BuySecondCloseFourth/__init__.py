"""A test strategy for live deployments: in every run of four 1m bars, it buys at market on the
close of the 2nd and closes the position at market on the close of the 4th. Decided by the bar's
time alone, so a deployment resumed on another worker decides exactly as the first would have."""

from jesse.strategies import Strategy


def _slot(strategy):
    return int(strategy.current_candle[0] // 60_000) % 4


class BuySecondCloseFourth(Strategy):
    def hyperparameters(self):
        return [{"name": "qty", "type": float, "min": 0.001, "max": 1.0, "default": 0.001}]

    def should_long(self):
        return _slot(self) == 1

    def go_long(self):
        self.buy = self.hp["qty"], self.price

    def should_cancel_entry(self):
        return False

    def update_position(self):
        if _slot(self) == 3:
            self.liquidate()
