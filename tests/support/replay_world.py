"""A whole Bar Replay setup on in-memory ports: stored history, api services, a runner and a worker router."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal

from tradesim.adapters.memory.clock import FixedClock
from tradesim.adapters.memory.messaging import MemoryEventBus, MemoryOrderQueue
from tradesim.adapters.memory.replays import MemoryReplayBarBus, MemoryReplayInbox
from tradesim.adapters.memory.storage import MemoryCandleStore
from tradesim.adapters.memory.tables import MemoryDatabase
from tradesim.adapters.memory.unit_of_work import MemoryUnitOfWork
from tradesim.application.accounts import AccountService
from tradesim.application.engine_service import EngineService
from tradesim.application.orders import OrderService
from tradesim.application.replay.active import Ports
from tradesim.application.replay.cache import BarCache
from tradesim.application.replay.routing import ReplayCommandRouter
from tradesim.application.replay.runner import ReplayRunner
from tradesim.application.replay.service import ReplayDispatch, ReplayService
from tradesim.domain import MatchingEngine, default_catalog
from tradesim.domain.bars import day_of
from tradesim.domain.commands import PlaceOrder
from tradesim.domain.enums import OrderType, Side
from tradesim.domain.events import EngineEvent
from tradesim.domain.history import CandleFile
from tradesim.domain.market import Candle
from tradesim.domain.replay_session import ReplayBar

WALL = 1_750_000_000_000  # the service's own time, far after the history it replays


def counter(prefix: str) -> Callable[[], str]:
    numbers = itertools.count(1)
    return lambda: f"{prefix}-{next(numbers)}"


class Monotonic:
    """A monotonic clock in ns that moves only when told."""

    def __init__(self) -> None:
        self.now = 1_000_000_000

    def __call__(self) -> int:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += int(seconds * 1_000_000_000)


class World:
    def __init__(self, *, database: MemoryDatabase | None = None, store: MemoryCandleStore | None = None) -> None:
        self.database = database or MemoryDatabase()
        self.store = store or MemoryCandleStore()
        self.wall = FixedClock(WALL)
        self.catalog = default_catalog()
        self.queue = MemoryOrderQueue(partitions=1)
        self.events = MemoryEventBus()
        self.bars = MemoryReplayBarBus()
        self.inbox = MemoryReplayInbox()
        self.cache = BarCache(self.store)
        self.monotonic = Monotonic()
        self.accounts = AccountService(self.uow, self.wall, counter("acc"))
        self.orders = OrderService(self.uow, self.queue, self.catalog, self.wall, counter("ord"))
        self.runner = self.new_runner("runner-1")
        self.live = EngineService(MatchingEngine(self.catalog, self.wall.now_ms), self.uow, self.events)
        self.router = ReplayCommandRouter(self.uow, self.runner, self.live.handle)
        self.replays = self.service(self.runner)
        self.played: list[ReplayBar] = []
        self.account_events: list[EngineEvent] = []

    def crash_and_restart(self, owner: str) -> ReplayRunner:
        """Drop the runner as a dying process would (nothing saved, no lease released); start another."""
        self.runner = self.new_runner(owner)
        self.router = ReplayCommandRouter(self.uow, self.runner, self.live.handle)
        self.replays = self.service(self.runner)
        return self.runner

    def uow(self) -> MemoryUnitOfWork:
        return MemoryUnitOfWork(self.database)

    def new_runner(self, owner: str) -> ReplayRunner:
        ports = Ports(uow=self.uow, bars=self.bars, events=self.events, catalog=self.catalog, wall=self.wall)
        return ReplayRunner(ports, self.cache, self.inbox, owner=owner, monotonic_ns=self.monotonic)

    def service(self, dispatch: ReplayDispatch) -> ReplayService:
        return ReplayService(self.uow, self.accounts, self.cache, dispatch, self.catalog, self.wall, counter("rep"))

    async def store_history(self, candles: Sequence[Candle]) -> None:
        """Write candles as day files and index them, as `tradesim history backfill` would."""
        by_day: dict[tuple[str, date], list[Candle]] = {}
        for c in candles:
            by_day.setdefault((c.symbol, day_of(c.open_time)), []).append(c)
        for (symbol, day), day_candles in by_day.items():
            written: CandleFile = await self.store.write_day(symbol, day, day_candles)
            async with self.uow() as uow:
                await uow.candle_files.record(written)
                await uow.commit()

    def watch(self, replay_id: str, account_id: str) -> Callable[[], None]:
        """Collect the session's bars and account events as a socket would; call the result to drain."""
        bars = self.bars.subscribe(replay_id)
        events = self.events.subscribe()
        events.accounts.add(account_id)

        def drain() -> None:
            while not bars._queue.empty():
                self.played.append(bars._queue.get_nowait())  # type: ignore[arg-type]
            while not events._queue.empty():
                self.account_events.append(events._queue.get_nowait())  # type: ignore[arg-type]

        return drain

    async def trade(self, user_id: str, command: PlaceOrder) -> str:
        """Through the api's order entry and the queue, then the worker's router: as live trading goes."""
        placed = await self.orders.place(user_id, command)
        for delivery in await self.queue.receive("worker", [0], block_ms=1):
            await self.router.handle(delivery.command)
            await self.queue.ack([delivery])
        return placed.order.order_id


def market(account_id: str, side: Side, qty: str, **fields: object) -> PlaceOrder:
    return PlaceOrder(account_id, "BTCUSDT", side, OrderType.MARKET, Decimal(qty), **fields)  # type: ignore[arg-type]


def limit(account_id: str, side: Side, qty: str, price: str, **fields: object) -> PlaceOrder:
    return PlaceOrder(account_id, "BTCUSDT", side, OrderType.LIMIT, Decimal(qty), Decimal(price), **fields)  # type: ignore[arg-type]


def bar(minute_time: int, o: str, h: str, low: str, c: str, symbol: str = "BTCUSDT") -> Candle:
    return Candle(symbol, minute_time, Decimal(o), Decimal(h), Decimal(low), Decimal(c), Decimal("1.5"))
