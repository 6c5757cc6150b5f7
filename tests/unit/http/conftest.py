"""An api over in-memory adapters, a fixed clock and cheap password hashing; helpers to drive it."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import AsyncIterator, Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest
from dependency_injector import providers
from quart import Quart
from quart.typing import TestClientProtocol

from tradesim.adapters.memory.clock import FixedClock
from tradesim.adapters.memory.storage import MemoryBlobStore
from tradesim.adapters.security.argon2_hasher import Argon2PasswordHasher
from tradesim.domain import MatchingEngine, Ticker, default_catalog
from tradesim.domain.bars import day_of
from tradesim.domain.engine import SequentialIds
from tradesim.domain.events import EngineEvent
from tradesim.domain.market import Candle
from tradesim.entrypoints.container import Container, build_container
from tradesim.entrypoints.http.app import ApiOptions, create_app, routes_wired
from tradesim.entrypoints.roles import ContainerOptions
from tradesim.entrypoints.settings import Settings

T0 = 1_700_000_000_000
SECRET = "test-secret-" + "x" * 40


def cheap_hasher() -> Argon2PasswordHasher:
    return Argon2PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def api_container(
    tmp_path: Path | None = None,
    *,
    clock: FixedClock | None = None,
    settings: Settings | None = None,
    database_url: str = "memory://",
    options: ContainerOptions | None = None,
) -> Container:
    """The composition root on `settings` (by default on `database_url`, in-memory unless given),
    with a fixed clock, readable ids and cheap password hashing."""
    settings = settings or Settings(
        jwt_secret=SECRET,
        data_dir=tmp_path or Path("var"),
        database_url=database_url,
        object_store_url=((tmp_path or Path("var")) / "objects").resolve().as_uri(),
        symbols=("BTCUSDT", "ETHUSDT"),
    )
    container = build_container(settings, options)
    clock = clock or FixedClock(T0)
    counter = itertools.count(1)
    container.core.clock.override(providers.Object(clock))
    container.core.ids.override(providers.Object(lambda: f"id-{next(counter):06d}"))
    container.security.password_hasher.override(providers.Object(cheap_hasher()))
    if settings.database_url == "memory://":
        container.storage.blob_store.override(providers.Singleton(MemoryBlobStore))
    container.engine.override(
        providers.Singleton(MatchingEngine, catalog=container.core.catalog, clock=clock.now_ms, ids=SequentialIds("e"))
    )
    return container


async def store_history(container: Container, candles: Sequence[Candle]) -> None:
    """Write candles into the container's candle store as day files and index them, as a backfill would."""
    by_day: dict[tuple[str, date], list[Candle]] = {}
    for candle in candles:
        by_day.setdefault((candle.symbol, day_of(candle.open_time)), []).append(candle)
    for (symbol, day), day_candles in by_day.items():
        written = await container.storage.candle_store().write_day(symbol, day, day_candles)
        async with container.persistence.unit_of_work() as uow:
            await uow.candle_files.record(written)
            await uow.commit()


@attrs.define
class Api:
    """The app under test and what it runs on."""

    app: Quart
    client: TestClientProtocol
    container: Container
    clock: FixedClock

    async def register(self, email: str, password: str = "correct horse") -> dict[str, Any]:
        response = await self.client.post("/api/v1/auth/register", json={"email": email, "password": password})
        assert response.status_code == 201, await response.get_data()
        return await response.get_json()

    async def login(self, email: str, password: str = "correct horse") -> dict[str, Any]:
        response = await self.client.post("/api/v1/auth/login", json={"email": email, "password": password})
        assert response.status_code == 200, await response.get_data()
        return await response.get_json()

    async def user(self, email: str) -> dict[str, str]:
        """Register and log in; the Authorization header of the new user."""
        await self.register(email)
        tokens = await self.login(email)
        return {"Authorization": f"Bearer {tokens['accessToken']}"}

    async def account(self, headers: dict[str, str], name: str = "Main", balance: str = "10000") -> dict[str, Any]:
        response = await self.client.post(
            "/api/v1/accounts", json={"name": name, "startingBalance": balance}, headers=headers
        )
        assert response.status_code == 201, await response.get_data()
        return await response.get_json()

    async def tick(self, symbol: str = "BTCUSDT", last: str = "30000.0", spread: str = "0.1") -> list[EngineEvent]:
        """A ticker through the price bus (the api's cache) and into the engine."""
        price = Decimal(last)
        ticker = Ticker(
            symbol=symbol,
            last_price=price,
            bid_price=price - Decimal(spread),
            ask_price=price,
            mark_price=price,
            ts=self.clock.now_ms(),
        )
        await self.container.messaging.price_bus().publish(ticker)
        return await self.container.engine_service().on_market(ticker)

    async def drain(self) -> list[EngineEvent]:
        """Play the worker: hand every queued command to its engine, through the worker's router (a replay
        account's go to its session on this process's replay runner). Returns the live engine's events."""
        queue = self.container.messaging.order_queue()
        router = self.container.order_router()
        events: list[EngineEvent] = []
        deliveries = await queue.receive("test-worker", list(range(queue.partitions)), block_ms=1)
        for delivery in deliveries:
            events.extend(await router.handle(delivery.command))
        await queue.ack(deliveries)
        return events

    async def history(self, candles: Sequence[Candle]) -> None:
        await store_history(self.container, candles)


@contextlib.asynccontextmanager
async def running_api(container: Container, clock: FixedClock, options: ApiOptions) -> AsyncIterator[Api]:
    """The app over `container`, as a process runs it: routes wired, resources started; afterwards
    unwired and every resource shut down (the SQL pool, the Redis client)."""
    with routes_wired(container):
        await container.init_resources()  # type: ignore[misc]
        try:
            app = create_app(container, options)
            async with app.test_app() as test_app:
                yield Api(app=app, client=test_app.test_client(), container=container, clock=clock)
        finally:
            await container.shutdown_resources()  # type: ignore[misc]


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[Api]:
    clock = FixedClock(T0)
    async with running_api(api_container(tmp_path, clock=clock), clock, ApiOptions(rate_limits=False)) as api:
        yield api


@pytest.fixture
def catalog():  # type: ignore[no-untyped-def]
    return default_catalog()
