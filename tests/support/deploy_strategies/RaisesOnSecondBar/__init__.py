"""A test strategy that raises in `should_long` on the second bar it decides on."""

from jesse.strategies import Strategy


class RaisesOnSecondBar(Strategy):
    def should_long(self):
        if self.index >= 1:
            raise ValueError("the test strategy's own error")
        return False

    def go_long(self):
        pass
