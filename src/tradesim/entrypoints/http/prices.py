"""Which prices an account's requests are checked and shown at: the live tickers, or its replay's.

A live account trades the streamed market (`TickerCache`); a replay account trades its session's
bars, so its orders are checked against the replay's last price and its positions are marked at
it (`ReplayPrices`). Which kind an account is never changes, so it is remembered per account
(bounded): a live account costs one lookup in the process's life, a replay account one read of its
session per call (its price moves as it plays).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from tradesim.application.remembered import Remembered
from tradesim.application.replay.prices import ReplayPrices
from tradesim.domain.enums import Category
from tradesim.entrypoints.http.tickers import TickerCache
from tradesim.ports.unit_of_work import UnitOfWorkFactory


class AccountPrices:
    def __init__(
        self, tickers: TickerCache, replays: ReplayPrices, uow_factory: UnitOfWorkFactory, *, remember: int = 100_000
    ) -> None:
        self._tickers = tickers
        self._replays = replays
        self._uow = uow_factory
        self._live: Remembered[str, bool] = Remembered(remember)

    async def last_price(
        self, user_id: str, account_id: str, symbol: str, category: Category = Category.LINEAR
    ) -> Decimal | None:
        """The last price an order of `account_id` on `symbol` is checked against (None: not known yet).

        Raises `NotReplaySymbol` for the user's replay account and a symbol its session does not
        play. Another user's or a missing account gets the live price: the caller refuses it (404).
        """
        if account_id in self._live:
            return self._tickers.last_price(symbol)
        async with self._uow() as uow:
            account = await uow.accounts.get(account_id)
            if account is None or account.user_id != user_id:
                return self._tickers.last_price(symbol)
            if account.kind != "replay":
                self._learn_live(account_id)
                return self._tickers.last_price(symbol)
            session = await uow.replays.get_by_account(account_id)
            if session is None:  # a replay account whose session is not written yet: no price at all
                return None
            session.check_tradable(symbol, category)
            return await self._replays.last_price(uow, session)

    async def marks(self, account_id: str) -> Mapping[str, Decimal]:
        """The mark prices `account_id`'s positions are valued at (unchecked: call after checking ownership)."""
        if account_id not in self._live:
            async with self._uow() as uow:
                account = await uow.accounts.get(account_id)
                if account is not None and account.kind == "replay":
                    return await self._replays.marks(uow, account_id) or {}
            if account is not None:
                self._learn_live(account_id)
        return self._tickers.marks()

    def _learn_live(self, account_id: str) -> None:
        self._live.remember(account_id, True)
