"""Which prices an account trades and is valued at: the live market's, or its replay's.

The `PriceSource` of the use cases. A live (or strategy) account trades the streamed market
(`LiveQuotes`, in memory); a replay account trades its session's bars, so its orders are
checked against the replay's last price and its positions are marked at it (`ReplayPrices`).
Which kind an account is comes from the `AccountDirectory`, so a live account costs no read once
known, and a replay account one read of its session per call (its price moves as it plays).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from tradesim.application.directory import AccountDirectory
from tradesim.application.replay.prices import ReplayPrices
from tradesim.domain.accounts import AccountKind
from tradesim.domain.enums import Category
from tradesim.ports.prices import LiveQuotes
from tradesim.ports.unit_of_work import UnitOfWorkFactory


class AccountPrices:
    def __init__(
        self, live: LiveQuotes, replays: ReplayPrices, directory: AccountDirectory, uow_factory: UnitOfWorkFactory
    ) -> None:
        self._live = live
        self._replays = replays
        self._directory = directory
        self._uow = uow_factory

    async def last_price(self, account_id: str, symbol: str, category: Category = Category.LINEAR) -> Decimal | None:
        """A missing account gets the live price: its order is refused by the ownership check."""
        entry = await self._directory.find(account_id)
        if entry is None or entry.kind is not AccountKind.REPLAY:
            return self._live.last_price(symbol)
        if entry.replay_id is None:  # a replay account whose session is not written yet: no price at all
            return None
        async with self._uow() as uow:
            session = await uow.replays.get(entry.replay_id)
            if session is None:
                return None
            session.check_tradable(symbol, category)
            return await self._replays.last_price(uow, session)

    async def marks(self, account_id: str) -> Mapping[str, Decimal]:
        entry = await self._directory.find(account_id)
        if entry is None or entry.kind is not AccountKind.REPLAY:
            return self._live.marks()
        async with self._uow() as uow:
            return await self._replays.marks(uow, account_id) or {}
