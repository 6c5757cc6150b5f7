"""The streamer's use case: market events from the feeds onto the price bus, closed candles into the database.

Prices and candles travel separately on purpose: publishing never waits on the database.
Closed candles are handed to a `CandleWriter` that writes them in batches from its own task;
while the database is down it keeps them (one per bar, the latest version) and retries with
a growing delay, and prices keep flowing all the while.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence

import attrs

from tradesim.domain.market import Candle
from tradesim.ports.market_data import MarketFeed
from tradesim.ports.messaging import PriceBus
from tradesim.ports.unit_of_work import UnitOfWorkFactory

log = logging.getLogger("tradesim.streamer")

CandleKey = tuple[str, str, str, int]


@attrs.define
class StreamerStats:
    published: int = 0
    publish_failures: int = 0
    candles_written: int = 0
    candle_write_failures: int = 0
    candles_dropped: int = 0


def _key(candle: Candle) -> CandleKey:
    return (candle.category.value, candle.symbol, candle.interval, candle.open_time)


class CandleWriter:
    """Closed candles into `market_candles` through the unit of work, in batches, retried on failure.

    `add` never blocks. `run` writes whatever is pending every `flush_interval` seconds (or as
    soon as `batch_size` candles wait); a failed write keeps the batch and waits `retry_initial`,
    doubling up to `retry_cap`. At most `max_pending` bars are kept (about 70 days of one symbol);
    beyond that the oldest are dropped and counted, since a bounded memory matters more than
    bars the nightly history sync restores anyway.
    """

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        *,
        stats: StreamerStats | None = None,
        batch_size: int = 500,
        flush_interval: float = 1.0,
        retry_initial: float = 0.5,
        retry_cap: float = 30.0,
        max_pending: int = 100_000,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._uow = uow_factory
        self.stats = stats or StreamerStats()
        self._batch_size = batch_size
        self._flush_interval = flush_interval
        self._retry_initial = retry_initial
        self._retry_cap = retry_cap
        self._max_pending = max_pending
        self._sleep = sleep
        self._pending: dict[CandleKey, Candle] = {}
        self._wake = asyncio.Event()
        self._failing = False

    @property
    def pending(self) -> int:
        return len(self._pending)

    def add(self, candle: Candle) -> None:
        key = _key(candle)
        self._pending.pop(key, None)  # re-insert: the dict stays in arrival order, oldest first
        self._pending[key] = candle
        if len(self._pending) > self._max_pending:
            del self._pending[next(iter(self._pending))]
            self.stats.candles_dropped += 1
        if len(self._pending) >= self._batch_size:
            self._wake.set()

    async def run(self) -> None:
        """Write pending candles until cancelled."""
        delay = self._retry_initial
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._flush_interval):
                    await self._wake.wait()
            self._wake.clear()
            while self._pending:
                if await self.flush_once():
                    delay = self._retry_initial
                    continue
                await self._sleep(delay)
                delay = min(self._retry_cap, delay * 2)

    async def flush_once(self) -> bool:
        """Write one batch; False when the store refused it (the batch stays pending)."""
        batch = [candle for _, candle in zip(range(self._batch_size), self._pending.values(), strict=False)]
        if not batch:
            return True
        try:
            async with self._uow() as uow:
                await uow.candles.upsert(batch)
                await uow.commit()
        except Exception as exc:  # any store failure: keep the candles and retry; prices must keep flowing
            self.stats.candle_write_failures += 1
            if not self._failing:
                log.warning("cannot write %d closed candles (will retry): %s", len(batch), exc)
            self._failing = True
            return False
        if self._failing:
            log.info("closed candles are being written again")
        self._failing = False
        for candle in batch:
            key = _key(candle)
            if self._pending.get(key) is candle:  # unless a newer version arrived meanwhile
                del self._pending[key]
        self.stats.candles_written += len(batch)
        return True

    async def drain(self) -> None:
        """Try once to write everything pending (at shutdown)."""
        while self._pending and await self.flush_once():
            pass


class MarketStreamer:
    """Runs every feed at once; each event goes to the price bus, closed candles also to the writer."""

    def __init__(
        self, feeds: Sequence[MarketFeed], symbols: Sequence[str], bus: PriceBus, candles: CandleWriter
    ) -> None:
        if not feeds:
            raise ValueError("the streamer needs at least one feed")
        self._feeds = tuple(feeds)
        self._symbols = tuple(symbols)
        self._bus = bus
        self.candles = candles
        self.stats = candles.stats

    async def run(self) -> None:
        """Until cancelled. A feed that raises (a bug: feeds reconnect inside) stops the streamer."""
        async with asyncio.TaskGroup() as group:
            group.create_task(self.candles.run())
            for feed in self._feeds:
                group.create_task(self._pump(feed))

    async def _pump(self, feed: MarketFeed) -> None:
        publish = self._bus.publish
        stats = self.stats
        async for event in feed.stream(self._symbols):
            try:
                await publish(event)
            except Exception as exc:  # best effort: a failing bus must not stop the candles or the other feeds
                self._publish_failed(exc)
            else:
                stats.published += 1
            if isinstance(event, Candle) and event.closed:
                self.candles.add(event)

    def _publish_failed(self, exc: Exception) -> None:
        self.stats.publish_failures += 1
        if self.stats.publish_failures == 1 or self.stats.publish_failures % 1000 == 0:
            log.warning("cannot publish (%d failures so far): %s", self.stats.publish_failures, exc)
