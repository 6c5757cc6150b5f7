"""A test strategy that rests a limit buy a tenth below the market on its first bar, and waits."""

from jesse.strategies import Strategy


class RestingBid(Strategy):
    def should_long(self):
        return True

    def go_long(self):
        self.buy = 0.001, round(self.price * 0.9, 1)

    def should_cancel_entry(self):
        return False
