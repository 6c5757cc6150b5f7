"""The engine step every driver shares: its driver's state goes in the same transaction, its
`then` before the events are published, and a redelivered order is applied once whoever drives."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from tests.unit.application.conftest import World
from tradesim.adapters.memory.messaging import MemoryEventBus
from tradesim.application.engine_step import EngineStep
from tradesim.domain import MatchingEngine, OrderFilled, OrderType, PlaceOrder, Side, Ticker, default_catalog
from tradesim.domain.events import EngineEvent
from tradesim.ports.unit_of_work import UnitOfWork


class LoggingBus(MemoryEventBus):
    def __init__(self, log: list[str]) -> None:
        super().__init__()
        self._log = log

    async def publish(self, events: Sequence[EngineEvent]) -> None:
        self._log.append("publish")
        await super().publish(events)


async def test_a_drivers_state_commits_with_the_events_and_then_runs_before_they_are_published(world: World) -> None:
    account = await world.accounts.open("user-1", "Main", Decimal("10000"))
    log: list[str] = []
    engine = MatchingEngine(default_catalog(), world.clock.now_ms)
    step = EngineStep(engine, world.uow, LoggingBus(log))
    placed = await world.orders.place(
        "user-1", PlaceOrder(account.account_id, "BTCUSDT", Side.BUY, OrderType.MARKET, Decimal("0.100"))
    )
    [delivery] = await world.queue.receive("w", list(range(world.queue.partitions)), block_ms=10)
    order = delivery.command

    async def save(uow: UnitOfWork) -> None:
        stored = await uow.orders.get(placed.order.order_id)
        assert stored is not None
        log.append(f"save (order taken in: {bool(stored.accepted_time)})")

    async def then() -> None:
        log.append("then")

    price = Decimal("30000.0")
    ticker = Ticker("BTCUSDT", price, price - Decimal("0.1"), price, price, world.clock.now_ms())
    quiet = await step.market(lambda: engine.on_ticker(ticker), save=save, then=then)
    assert (quiet, log) == ([], ["then"])  # nothing to commit: no save, no publish, `then` all the same

    log.clear()
    events = await step.commands([order, order], save=save, then=then)
    assert len([e for e in events if isinstance(e, OrderFilled)]) == 1  # the second copy is dropped
    assert log == ["save (order taken in: True)", "then", "publish"]

    log.clear()
    assert await step.commands([order], save=save, then=then) == []  # a redelivery: taken in already
    assert log == ["then"]
