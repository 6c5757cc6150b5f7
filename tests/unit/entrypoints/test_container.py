"""The composition root wires real use cases from settings alone."""

from decimal import Decimal
from pathlib import Path

from tradesim.adapters.sqlalchemy.migrate import upgrade_to_head_async
from tradesim.domain import OrderFilled, OrderType, PlaceOrder, Side, Ticker
from tradesim.entrypoints.container import Container, build_container
from tradesim.entrypoints.settings import Settings


async def test_an_order_placed_through_the_container_is_filled_by_its_engine(tmp_path: Path) -> None:
    settings = Settings.from_env({"TRADESIM_DATA_DIR": str(tmp_path)})
    assert settings.uses_sqlite
    await upgrade_to_head_async(settings.database_url)  # as `serve` does on start
    container = build_container(settings)
    await container.init_resources()
    try:
        await _place_and_fill(container)
    finally:
        await container.shutdown_resources()


async def test_the_memory_store_stays_available(tmp_path: Path) -> None:
    settings = Settings.from_env({"TRADESIM_DATA_DIR": str(tmp_path), "TRADESIM_DATABASE_URL": "memory://"})
    container = build_container(settings)
    await _place_and_fill(container)
    assert not (tmp_path / "tradesim.sqlite3").exists()


async def _place_and_fill(container: Container) -> None:
    account = await container.accounts().open("user-1", "Main", Decimal("1000"))
    service = container.engine_service()
    now = container.core.clock().now_ms()
    await service.on_market(Ticker.of("ETHUSDT", last="2000.00", bid="1999.99", ask="2000.01", ts=now))
    placed = await container.orders().place(
        "user-1", PlaceOrder(account.account_id, "ETHUSDT", Side.SELL, OrderType.MARKET, Decimal("0.10"))
    )
    queue = container.messaging.order_queue()
    [delivery] = await queue.receive("test", list(range(queue.partitions)), block_ms=10)
    events = await service.handle(delivery.command)
    [fill] = [e for e in events if isinstance(e, OrderFilled)]
    assert fill.order.order_id == placed.order.order_id
    assert fill.execution.exec_price == Decimal("1999.99")
    assert container.engine_service() is service


def test_the_streamer_is_wired_from_the_settings(tmp_path: Path) -> None:
    from tradesim.adapters.memory.messaging import MemoryPriceBus
    from tradesim.adapters.redis.price_bus import RedisPriceBus

    env = {"TRADESIM_DATA_DIR": str(tmp_path), "TRADESIM_FEEDS": "bybit-spot,bitget-linear"}
    container = build_container(Settings.from_env(env))
    feeds = container.market_data.feeds()
    assert [(f.name, f.url) for f in feeds] == [
        ("bybit-spot", "wss://stream.bybit.com/v5/public/spot"),
        ("bitget", "wss://ws.bitget.com/v2/ws/public"),
    ]
    assert isinstance(container.messaging.price_bus(), MemoryPriceBus)
    assert container.streamer() is container.streamer()
    redis_env = {**env, "TRADESIM_REDIS_URL": "redis://127.0.0.1:1/0", "TRADESIM_REDIS_NAMESPACE": "ns:"}
    bus = build_container(Settings.from_env(redis_env)).messaging.price_bus()
    assert isinstance(bus, RedisPriceBus)
    assert bus.channel("BTCUSDT") == "ns:ticker.BTCUSDT"


def test_engines_name_their_own_orders_with_unique_ids(tmp_path: Path) -> None:
    from tradesim.entrypoints.container import build_container

    container = build_container(
        Settings.from_env({"TRADESIM_DATA_DIR": str(tmp_path), "TRADESIM_DATABASE_URL": "memory://"})
    )
    first = container.engine().ids()
    worker = container.worker()
    assert first != worker._engine_factory().ids()
    assert len(first) == 36  # a UUID, not a counter that restarts with the process


def test_outcomes_go_without_a_transaction_only_where_an_outcome_is_one_statement(tmp_path: Path) -> None:
    from tradesim.entrypoints.containers.persistence import outcome_mode

    expected = {
        "postgresql+asyncpg://postgres@127.0.0.1:5432/tradesim": "single_statement",
        f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}": "transactional",
        "memory://": "transactional",
    }
    for url, mode in expected.items():
        settings = Settings.from_env({"TRADESIM_DATA_DIR": str(tmp_path), "TRADESIM_DATABASE_URL": url})
        assert outcome_mode(settings) == mode, url


async def test_a_process_holds_one_redis_client_and_closes_it(tmp_path: Path) -> None:
    """Queue, events, leases, prices, replays, readiness and the login limits share the process's client."""
    settings = Settings(
        data_dir=tmp_path, database_url="memory://", redis_url="redis://127.0.0.1:1/0", jwt_secret="s" * 40
    )
    container = build_container(settings)
    await container.init_resources()
    client = container.messaging.redis()
    users = [
        container.messaging.price_bus(),
        container.messaging.event_bus(),
        container.messaging.order_queue(),
        container.messaging.leases(),
        container.messaging.health(),
        container.replay.bar_bus(),
        container.replay.inbox(),
        container.messaging.rate_counters(),
        container.messaging.revocations(),
    ]
    assert all(user._client is client for user in users)  # type: ignore[attr-defined]
    closed: list[bool] = []
    original = client.aclose

    async def aclose() -> None:
        closed.append(True)
        await original()

    client.aclose = aclose  # type: ignore[method-assign]
    await container.shutdown_resources()
    assert closed == [True]
