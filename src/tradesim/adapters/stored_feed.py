"""A `MarketFeed` that plays stored candle history as if it were live (`tradesim serve --feed replay`).

For a machine with no internet: the days kept in the object store (by `tradesim history sync`
or `backfill`) are played in order, all symbols minute by minute together, each bar as the
four ticks of Bar Replay's intra-bar path (`domain.replay.bar_path`). Ticks carry the wall
clock's time, not the history's, so the engine treats them as fresh prices. After the last
stored day the history starts again from the first.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import date
from decimal import Decimal

from tradesim.domain.errors import NotFound
from tradesim.domain.market import Candle, MarketEvent, Ticker
from tradesim.domain.replay import bar_path
from tradesim.ports.clock import Clock
from tradesim.ports.storage import CandleStore
from tradesim.ports.unit_of_work import UnitOfWorkFactory


class StoredHistoryFeed:
    name = "stored-history"

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        store: CandleStore,
        clock: Clock,
        *,
        bars_per_second: Decimal = Decimal(1),
        start: date | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._uow = uow_factory
        self._store = store
        self._clock = clock
        self._tick_interval = float(1 / bars_per_second / 4)
        self._start = start
        self._sleep = sleep

    async def stored_days(self, symbols: Sequence[str]) -> list[date]:
        """The days stored for any of `symbols`, from `start` on, ascending.

        Raises:
            NotFound: nothing is stored (with the command that fetches history).
        """
        days: set[date] = set()
        async with self._uow() as uow:
            for symbol in symbols:
                days.update(entry.day for entry in await uow.candle_files.list(symbol))
        chosen = sorted(d for d in days if self._start is None or d >= self._start)
        if not chosen:
            wanted = ", ".join(symbols)
            raise NotFound(
                f"no stored history for {wanted}"
                + (f" from {self._start}" if self._start else "")
                + ": fetch some first, e.g. `tradesim history backfill --symbol BTCUSDT --start 2024-01-01 "
                "--end 2024-01-07` (needs internet), or run `tradesim serve` with the live feed"
            )
        return chosen

    async def stream(self, symbols: Sequence[str]) -> AsyncIterator[MarketEvent]:
        days = await self.stored_days(symbols)
        while True:
            for day in days:
                bars: dict[str, dict[int, Candle]] = {}
                for symbol in symbols:
                    candles = await self._store.read_day(symbol, day) or []
                    bars[symbol] = {c.open_time: c for c in candles}
                for minute in sorted({t for per_symbol in bars.values() for t in per_symbol}):
                    for step in range(4):
                        for symbol in symbols:
                            candle = bars[symbol].get(minute)
                            if candle is not None:
                                yield self._tick(candle, bar_path(candle)[step])
                        await self._sleep(self._tick_interval)

    def _tick(self, candle: Candle, price: Decimal) -> Ticker:
        return Ticker(
            symbol=candle.symbol,
            last_price=price,
            bid_price=price,
            ask_price=price,
            mark_price=price,
            ts=self._clock.now_ms(),
            category=candle.category,
        )
