"""The prices an account's orders are checked at and its positions are valued at."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Protocol

from tradesim.domain.enums import Category


class PriceSource(Protocol):
    """Per account: a live account sees the streamed market, a replay account its session's bars."""

    async def last_price(self, account_id: str, symbol: str, category: Category = Category.LINEAR) -> Decimal | None:
        """The last price an order of `account_id` on `symbol` is checked against; None when not
        known yet (no ticker seen, no bar played). Ownership is the caller's to check first.

        Raises:
            NotReplaySymbol: a replay account and a symbol its session does not play.
        """
        ...

    async def marks(self, account_id: str) -> Mapping[str, Decimal]:
        """The mark price per symbol that `account_id`'s positions are valued at ({} when none)."""
        ...


class LiveQuotes(Protocol):
    """The latest prices of the streamed market, kept in memory (no I/O: asked on every order)."""

    def last_price(self, symbol: str) -> Decimal | None:
        """The last traded price of `symbol`; None before its first ticker."""
        ...

    def marks(self) -> dict[str, Decimal]:
        """The latest mark price of every symbol seen, as a copy the caller may keep."""
        ...
