"""Many fills for one account persisted at once, each in its own unit of work on its own
connection: no balance update is lost and a redelivered fill counts once. On PostgreSQL also in
single-statement units of work, as the worker records its outcomes there; and an outcome that
fails leaves nothing behind."""

from __future__ import annotations

import asyncio
import random
import shutil
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from pathlib import Path

import attrs
import pytest

from tests.integration.databases import empty_tables, sqlite_url
from tradesim.adapters.sqlalchemy.database import Database, DatabaseConfig
from tradesim.adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from tradesim.application.persistence import record_events
from tradesim.domain import MatchingEngine, OrderType, PlaceOrder, Side, Ticker, default_catalog
from tradesim.domain.accounts import Account
from tradesim.domain.events import BalanceChanged, EngineEvent, OrderFilled
from tradesim.domain.orders import Order

pytestmark = pytest.mark.integration

T0 = 1_700_000_000_000
FILLS = 50
REDELIVERED = 10
ACCOUNT = "acc-concurrent"


@pytest.fixture(params=["sqlite", "postgres", "postgres-single-statement"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "concurrency.sqlite3"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return sqlite_url(path)
    url: str = request.getfixturevalue("migrated_postgres_url")
    return url


@pytest.fixture
def outcome_uow(request: pytest.FixtureRequest, database: Database) -> Callable[[], SqlAlchemyUnitOfWork]:
    """Units of work for recording outcomes: single-statement in the `postgres-single-statement` case."""
    single = request.node.callspec.params["database_url"] == "postgres-single-statement"
    return lambda: SqlAlchemyUnitOfWork(database, single_statement=single)


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    # Twenty connections: many transactions really overlap, and the shared test server (100
    # connections for every engineer's runs) keeps room for the others.
    database = Database(database_url, DatabaseConfig(pool_size=20, max_overflow=0))
    await empty_tables(database)
    try:
        yield database
    finally:
        await database.dispose()


def fill_batches() -> tuple[list[EngineEvent], list[list[EngineEvent]], Decimal]:
    """What an engine emits funding an account and filling `FILLS` market orders on it (opening and
    closing a position, so fees and realised PnL both move the balance); and the final balance."""
    engine = MatchingEngine(default_catalog(), clock=lambda: T0)
    opening = engine.open_account(ACCOUNT, Decimal("100000"))
    batches: list[list[EngineEvent]] = []
    rng = random.Random(7)
    price = Decimal("30000.0")
    for n in range(FILLS):
        price += Decimal(rng.randint(-50, 50)) / 10
        ts = T0 + n * 1000
        engine.on_ticker(Ticker.of("BTCUSDT", last=price, bid=price - Decimal("0.1"), ask=price, ts=ts))
        side = Side.BUY if n % 2 == 0 else Side.SELL
        qty = Decimal("0.001") * rng.randint(1, 30)
        events = engine.place(PlaceOrder(ACCOUNT, "BTCUSDT", side, OrderType.MARKET, qty, order_id=f"ord-{n}"))
        assert any(isinstance(e, OrderFilled) for e in events), events
        batches.append(events)
    return opening, batches, engine.balances(ACCOUNT)["USDT"]


async def test_concurrent_fills_on_one_account_keep_balance_equal_to_ledger(
    database: Database, outcome_uow: Callable[[], SqlAlchemyUnitOfWork]
) -> None:
    opening, batches, expected = fill_batches()
    async with SqlAlchemyUnitOfWork(database) as uow:
        await uow.accounts.add(Account(ACCOUNT, "user-1", "Concurrent", created_time=T0))
        await record_events(uow, opening)
        await uow.commit()

    start = asyncio.Event()

    async def persist(events: list[EngineEvent]) -> None:
        await start.wait()
        async with outcome_uow() as uow:
            await record_events(uow, events)
            await asyncio.sleep(0)  # let the others pile into their transactions too
            await uow.commit()

    # Every fill once, and some delivered a second time at the same moment (at-least-once queue).
    deliveries = [*batches, *batches[:REDELIVERED]]
    random.Random(3).shuffle(deliveries)
    tasks = [asyncio.create_task(persist(events)) for events in deliveries]
    start.set()
    await asyncio.gather(*tasks)

    entries = sum(isinstance(e, BalanceChanged) for batch in [opening, *batches] for e in batch)
    async with SqlAlchemyUnitOfWork(database) as uow:
        balance = (await uow.balances.get(ACCOUNT))["USDT"]
        assert balance == await uow.ledger.total(ACCOUNT, "USDT")
        assert balance == expected
        assert len(await uow.ledger.list_by_account(ACCOUNT, limit=1000)) == entries
        assert len(await uow.executions.list_by_account(ACCOUNT, limit=1000)) == FILLS
        assert len(await uow.orders.list_by_account(ACCOUNT, limit=1000)) == FILLS


async def test_an_outcome_that_fails_leaves_nothing_behind(
    database: Database, outcome_uow: Callable[[], SqlAlchemyUnitOfWork]
) -> None:
    opening, batches, _ = fill_batches()
    async with SqlAlchemyUnitOfWork(database) as uow:
        await uow.accounts.add(Account(ACCOUNT, "user-1", "Concurrent", created_time=T0))
        await record_events(uow, opening)
        await uow.orders.add_new_many([attrs.evolve(_order_of(batches[1]), order_id="ord-other", order_link_id="mine")])
        await uow.commit()
        before = await uow.balances.get(ACCOUNT)
    # The fill's order now carries the orderLinkId another order of the account has: the unique
    # index refuses it, after the entries, execution and position were written in the same unit.
    fill = [
        attrs.evolve(e, order=attrs.evolve(e.order, order_link_id="mine")) if hasattr(e, "order") else e
        for e in batches[0]
    ]
    # The drivers' own unique-violation errors (nothing translates them: no route saves such an order).
    with pytest.raises(Exception, match="order_link_id"):
        async with outcome_uow() as uow:
            await record_events(uow, fill)
            await uow.commit()
    async with SqlAlchemyUnitOfWork(database) as uow:
        assert await uow.balances.get(ACCOUNT) == before
        assert await uow.ledger.total(ACCOUNT, "USDT") == before["USDT"]
        assert await uow.executions.list_by_account(ACCOUNT) == []
        assert await uow.positions.list_by_account(ACCOUNT) == []
        assert await uow.orders.get(_order_of(batches[0]).order_id) is None


def _order_of(events: list[EngineEvent]) -> Order:
    return next(e.order for e in events if isinstance(e, OrderFilled))
