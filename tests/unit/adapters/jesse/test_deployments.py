"""Live deployments in one process: the worker's deployment host over in-memory adapters, with the
api's routes, a test strategy folder, and the test playing the streamer (closed 1m candles on the
price bus) and the engine worker (`Api.drain`)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest
from dependency_injector import providers

from tests.support.candles import walk
from tests.support.replay_world import Monotonic
from tests.unit.http.conftest import SECRET, T0, Api, api_container, running_api
from tests.waiting import until
from tradesim.adapters.memory.clock import FixedClock
from tradesim.application.deployment_host import DeploymentHost
from tradesim.application.replay.runner import ReplayRunner
from tradesim.domain.bars import day_start_ms
from tradesim.domain.market import Candle
from tradesim.entrypoints.deployment_host import build_deployment_host
from tradesim.entrypoints.http.app import ApiOptions
from tradesim.entrypoints.roles import ContainerOptions
from tradesim.entrypoints.settings import Settings

STRATEGIES = Path(__file__).parents[3] / "support" / "deploy_strategies"
URL = "/api/v1/strategy-deployments"
MIN = 60_000
#: A bar in slot 0 of the test strategy's runs of four (see BuySecondCloseFourth).
B0 = T0 - T0 % (4 * MIN) + 4 * MIN


def candle(open_time: int, close: str = "30000.0") -> Candle:
    price = Decimal(close)
    return Candle("BTCUSDT", open_time, price, price, price, price, Decimal(1))


def _settings(tmp_path: Path) -> Settings:
    return Settings(
        jwt_secret=SECRET,
        data_dir=tmp_path,
        database_url="memory://",
        object_store_url=(tmp_path / "objects").resolve().as_uri(),
        symbols=("BTCUSDT", "ETHUSDT"),
        strategies_dirs=(STRATEGIES,),
        worker_lease_ttl_ms=400,
    )


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[Api]:
    clock = FixedClock(T0)
    settings = _settings(tmp_path)
    async with running_api(
        api_container(tmp_path, clock=clock, settings=settings), clock, ApiOptions(rate_limits=False)
    ) as api:
        yield api


class World:
    def __init__(self, api: Api, host: DeploymentHost) -> None:
        self.api = api
        self.host = host

    async def deploy(self, headers: dict[str, str], account_id: str, strategy: str) -> dict[str, Any]:
        body = {"strategy": strategy, "accountId": account_id, "symbol": "BTCUSDT", "timeframe": "1m"}
        response = await self.api.client.post(URL, json=body, headers=headers)
        assert response.status_code == 201, await response.get_data()
        created: dict[str, Any] = await response.get_json()
        await until(lambda: created["deploymentId"] in self.host.held, what="the host takes the deployment")
        return created

    async def bar(self, open_time: int) -> None:
        """A closed bar, as the streamer publishes it, then what the engine worker does with the orders."""
        await self.publish(open_time)
        await self.drain()

    async def publish(self, open_time: int) -> None:
        self.api.clock.now = open_time + MIN
        await self.api.tick(last="30000.0")
        await self.api.container.messaging.price_bus().publish(candle(open_time))
        await until(lambda: self.host.last_bar_close(open_time + MIN), what="the host sees the bar")

    async def drain(self) -> None:
        # Until the queue is empty and the events went round (an order, its fill, the strategy's answer).
        for _ in range(5):
            await self.api.drain()
            await asyncio.sleep(0)

    async def orders(self, headers: dict[str, str], account_id: str) -> list[dict[str, Any]]:
        response = await self.api.client.get(f"/api/v1/orders?accountId={account_id}", headers=headers)
        return list((await response.get_json())["list"])

    async def deployment(self, headers: dict[str, str], deployment_id: str) -> dict[str, Any]:
        return dict(await (await self.api.client.get(f"{URL}/{deployment_id}", headers=headers)).get_json())


@contextlib.asynccontextmanager
async def running_host(api: Api) -> AsyncIterator[DeploymentHost]:
    host = await build_deployment_host(api.container)
    stop = asyncio.Event()
    task = asyncio.create_task(host.run(stop))
    try:
        yield host
    finally:
        stop.set()
        await task


@pytest.fixture
async def world(api: Api) -> AsyncIterator[World]:
    async with running_host(api) as host:
        yield World(api, host)


async def test_a_deployment_trades_through_the_order_path_decides_each_bar_and_stops(world: World) -> None:
    alice = await world.api.user("alice@example.com")
    account = (await world.api.account(alice))["accountId"]
    deployment = await world.deploy(alice, account, "BuySecondCloseFourth")
    for n in range(4):
        await world.bar(B0 + n * MIN)
    await until(lambda: world.orders(alice, account), what="orders")
    orders = await world.orders(alice, account)
    assert sorted((o["side"], o["orderStatus"]) for o in orders) == [("Buy", "Filled"), ("Sell", "Filled")]
    link_ids = {o["orderLinkId"] for o in orders}
    assert all(link.startswith(deployment["deploymentId"][-16:]) for link in link_ids)
    read = await world.deployment(alice, deployment["deploymentId"])
    assert (read["status"], read["lastDecisionTime"]) == ("running", B0 + 4 * MIN)

    stopped = await world.api.client.post(f"{URL}/{deployment['deploymentId']}/stop", headers=alice)
    assert (await stopped.get_json())["status"] == "stopped"
    await until(lambda: deployment["deploymentId"] not in world.host.held, what="the host lets it go")


async def test_stopping_cancels_the_open_orders_the_deployment_made_and_keeps_the_persons(world: World) -> None:
    alice = await world.api.user("alice@example.com")
    account = (await world.api.account(alice))["accountId"]
    mine = {"accountId": account, "symbol": "BTCUSDT", "side": "Buy", "orderType": "Limit", "qty": "0.001"}
    own = await world.api.client.post("/api/v1/orders", json={**mine, "price": "25000.0"}, headers=alice)
    assert own.status_code == 201
    deployment = await world.deploy(alice, account, "RestingBid")
    await world.bar(B0)
    resting = [o for o in await world.orders(alice, account) if o["orderLinkId"]]
    assert [(Decimal(o["price"]), o["orderStatus"]) for o in resting] == [(Decimal(27000), "New")]

    await world.api.client.post(f"{URL}/{deployment['deploymentId']}/stop", headers=alice)

    async def cancelled() -> bool:
        await world.drain()
        statuses = {o["orderLinkId"]: o["orderStatus"] for o in await world.orders(alice, account)}
        return statuses.get(resting[0]["orderLinkId"]) == "Cancelled"

    await until(cancelled, what="the deployment's order to be cancelled")
    statuses = {o["orderId"]: o["orderStatus"] for o in await world.orders(alice, account)}
    assert statuses[(await own.get_json())["orderId"]] == "New"


async def test_a_strategy_that_raises_fails_its_own_deployment_only(world: World) -> None:
    alice = await world.api.user("alice@example.com")
    first = (await world.api.account(alice, name="A"))["accountId"]
    second = (await world.api.account(alice, name="B"))["accountId"]
    broken = await world.deploy(alice, first, "RaisesOnSecondBar")
    healthy = await world.deploy(alice, second, "BuySecondCloseFourth")
    for n in range(2):
        await world.bar(B0 + n * MIN)
    failed = await until(lambda: _failed(world, alice, broken["deploymentId"]), what="the broken deployment fails")
    assert "RaisesOnSecondBar raised ValueError in should_long" in failed["error"]
    assert (await world.deployment(alice, healthy["deploymentId"]))["status"] == "running"
    await until(lambda: world.orders(alice, second), what="the healthy deployment's order")


async def test_a_bar_decided_again_after_a_take_over_places_no_second_order(api: Api) -> None:
    alice = await api.user("alice@example.com")
    account = (await api.account(alice))["accountId"]
    async with running_host(api) as first:
        world = World(api, first)
        deployment_id = (await world.deploy(alice, account, "BuySecondCloseFourth"))["deploymentId"]
        await world.bar(B0)
        await world.publish(B0 + MIN)  # the buy is sent; the engine worker has not seen it yet
        assert [o["orderStatus"] for o in await world.orders(alice, account)] == ["New"]
    # As if the first worker had died before recording that decision:
    tables = api.container.persistence.memory_database().tables
    tables.deployments[deployment_id] = attrs.evolve(tables.deployments[deployment_id], last_decision_time=B0 + MIN)
    async with running_host(api) as second:
        world.host = second
        await until(lambda: deployment_id in second.held, what="the take-over")
        await world.bar(B0 + MIN)  # decided again: the same orderLinkId answers the first order
        await world.bar(B0 + 2 * MIN)
        await world.bar(B0 + 3 * MIN)
        placed = await world.orders(alice, account)
    assert sorted((o["side"], o["orderStatus"]) for o in placed) == [("Buy", "Filled"), ("Sell", "Filled")]


async def _failed(world: World, headers: dict[str, str], deployment_id: str) -> dict[str, Any] | None:
    found = await world.deployment(headers, deployment_id)
    return found if found["status"] == "failed" else None


# -- a replay account ---------------------------------------------------------------------------

REPLAY_DAY_START = day_start_ms(date(2024, 1, 1))
#: Two hours of stored 1m bars to replay, around 42000.
REPLAY_CANDLES = walk("BTCUSDT", REPLAY_DAY_START, 120, seed=5, price="42000.0")


@pytest.fixture
async def replay_world(tmp_path: Path) -> AsyncIterator[World]:
    clock = FixedClock(T0)
    settings = _settings(tmp_path)
    container = api_container(
        tmp_path, clock=clock, settings=settings, options=ContainerOptions(replay_dispatch="runner")
    )
    replay = container.replay
    container.replay.runner.override(
        providers.Singleton(
            ReplayRunner,
            ports=replay.ports,
            cache=replay.cache,
            inbox=replay.inbox,
            owner="test",
            monotonic_ns=Monotonic(),
        )
    )
    async with running_api(container, clock, ApiOptions(rate_limits=False)) as api:
        await api.history(REPLAY_CANDLES)
        host = await build_deployment_host(api.container)
        stop = asyncio.Event()
        task = asyncio.create_task(host.run(stop))
        try:
            yield World(api, host)
        finally:
            stop.set()
            await task
            await container.replay.runner().close()


async def test_a_deployment_on_a_replay_account_decides_on_the_replays_bars(replay_world: World) -> None:
    world = replay_world
    alice = await world.api.user("alice@example.com")
    start = REPLAY_DAY_START + 92 * MIN  # slot 0 of the strategy's runs of four
    response = await world.api.client.post(
        "/api/v1/replays", json={"symbol": "BTCUSDT", "start": start, "speed": "10"}, headers=alice
    )
    created = await response.get_json()
    replay_id, account_id = created["replayId"], created["accountId"]
    deployment = await world.deploy(alice, account_id, "BuySecondCloseFourth")
    for n in range(4):
        step = await world.api.client.post(
            f"/api/v1/replays/{replay_id}/control", json={"action": "step"}, headers=alice
        )
        assert step.status_code == 200, await step.get_data()
        await until(lambda n=n: world.host.last_bar_close(start + (n + 1) * MIN), what=f"replay bar {n}")
        await world.drain()
    read = await world.deployment(alice, deployment["deploymentId"])
    assert read["lastDecisionTime"] == start + 4 * MIN  # the replay's time, not the wall clock's
    placed = await world.orders(alice, account_id)
    assert sorted(o["side"] for o in placed) == ["Buy", "Sell"]
    assert {o["orderStatus"] for o in placed} == {"Filled"}
