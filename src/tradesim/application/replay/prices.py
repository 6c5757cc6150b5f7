"""The prices of a replay account: its session's, never the live market's.

A replay account trades and is valued at the price its session's engine last saw: the close of
the last stored bar before the session's cursor. That is the bar it played last, or, for a
session that has not played yet or has just jumped (seek), the bar the engine is primed with
(`ActiveReplay._prime`), so that an order placed while paused has the price it will fill at.
The engine's ticks carry no spread, so that close is last, bid, ask and mark price at once.

Everything here reads the store through the caller's unit of work (and the shared `BarCache`),
so a query that values accounts does it in its own transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from tradesim.application.replay.cache import BarCache
from tradesim.application.replay.timeline import bar_before
from tradesim.domain.bars import day_of
from tradesim.domain.market import Candle
from tradesim.domain.replay_session import MINUTE_MS, ReplaySession
from tradesim.ports.unit_of_work import UnitOfWork


class ReplayPrices:
    def __init__(self, cache: BarCache) -> None:
        self._cache = cache

    async def last_price(self, uow: UnitOfWork, session: ReplaySession) -> Decimal | None:
        """The close of the last stored bar before the session's cursor; None when there is none."""
        last = session.last_bar_time
        if last is not None and last + MINUTE_MS == session.cursor:
            # The usual case (playing, or paused after playing): the bar just played, on a stored day.
            bars = await self._cache.day(session.symbol, day_of(last))
            if bars is not None:
                index = bars.index_from(last)
                if index < len(bars) and bars.open_time[index] == last:
                    return bars.candle(index).close
        days = sorted({f.day for f in await uow.candle_files.list(session.symbol)})
        candle = await bar_before(self._cache, session.symbol, days, session.cursor)
        return None if candle is None else candle.close

    async def marks(self, uow: UnitOfWork, account_id: str) -> Mapping[str, Decimal] | None:
        """The mark prices a replay account is valued at; None when `account_id` is not a replay's."""
        session = await uow.replays.get_by_account(account_id)
        if session is None:
            return None
        price = await self.last_price(uow, session)
        return {} if price is None else {session.symbol: price}

    async def played_bars(self, uow: UnitOfWork, session: ReplaySession, start_ms: int, end_ms: int) -> list[Candle]:
        """The session's stored 1m bars with `start_ms` <= open time < `end_ms` that it has played
        (opened before its cursor), oldest first: what a bot trading it may know of the market."""
        end_ms = min(end_ms, session.cursor)
        if end_ms <= start_ms:
            return []
        first, last = day_of(start_ms), day_of(end_ms - 1)
        days = sorted({f.day for f in await uow.candle_files.list(session.symbol) if first <= f.day <= last})
        found: list[Candle] = []
        for bars in await self._cache.days(session.symbol, days):
            if bars is None:
                continue
            found.extend(
                bars.candle(i) for i in range(bars.index_from(start_ms), len(bars)) if bars.open_time[i] < end_ms
            )
        return found
