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

import attrs

from tradesim.application.directory import AccountDirectory
from tradesim.application.replay.prices import ReplayPrices
from tradesim.domain.accounts import AccountKind
from tradesim.domain.enums import Category
from tradesim.domain.market import Candle, Ticker
from tradesim.domain.replay_session import ReplaySession
from tradesim.ports.prices import LiveQuotes
from tradesim.ports.unit_of_work import UnitOfWorkFactory


@attrs.frozen
class ReplayMarket:
    """The market as a replay account sees it: its one symbol at its session's price and time, and
    the bars it has played (never one ahead of its cursor)."""

    session: ReplaySession | None
    price: Decimal | None
    _bars: ReplayPrices
    _uow: UnitOfWorkFactory

    @property
    def symbol(self) -> str | None:
        return None if self.session is None else self.session.symbol

    def ticker(self) -> Ticker | None:
        """The replay's last price as a zero-spread ticker at replay time (as its engine sees it)."""
        session, price = self.session, self.price
        if session is None or price is None:
            return None
        return Ticker(session.symbol, price, price, price, price, session.clock or session.cursor, session.category)

    async def bars(self, start_ms: int, end_ms: int) -> list[Candle]:
        """Played 1m bars with `start_ms` <= open time < `end_ms`, oldest first."""
        if self.session is None:
            return []
        async with self._uow() as uow:
            return await self._bars.played_bars(uow, self.session, start_ms, end_ms)


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

    async def replay_market(self, account_id: str) -> ReplayMarket | None:
        """The market a replay account sees; None for any other account (it sees the live market)."""
        entry = await self._directory.find(account_id)
        if entry is None or entry.kind is not AccountKind.REPLAY:
            return None
        if entry.replay_id is None:  # its session is not written yet: nothing played, no price
            return ReplayMarket(None, None, self._replays, self._uow)
        async with self._uow() as uow:
            session = await uow.replays.get(entry.replay_id)
            price = None if session is None else await self._replays.last_price(uow, session)
        return ReplayMarket(session, price, self._replays, self._uow)
