"""Live quotes set by hand: for tests, and for the library used without a market feed."""

from __future__ import annotations

from decimal import Decimal


class FixedQuotes:
    """A `LiveQuotes` whose prices move only when `set` is called."""

    def __init__(self) -> None:
        self._last: dict[str, Decimal] = {}
        self._marks: dict[str, Decimal] = {}

    def set(self, symbol: str, last_price: Decimal, mark_price: Decimal | None = None) -> None:
        self._last[symbol] = last_price
        self._marks[symbol] = last_price if mark_price is None else mark_price

    def last_price(self, symbol: str) -> Decimal | None:
        return self._last.get(symbol)

    def marks(self) -> dict[str, Decimal]:
        return dict(self._marks)
