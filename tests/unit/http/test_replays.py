"""Bar Replay on the api: sessions, controls, trading a replay account through the order routes,
its bars on the socket, and the same-bar stop-loss / take-profit rule seen through the api.

History is written into the container's candle store (a local folder under tmp) as a backfill
would. The replay runner is the container's own, driven in-process: controls reach it directly
(`ContainerOptions(replay_dispatch="runner")`, as in `serve`), its pace follows a monotonic clock the
test moves, and `Api.drain()` plays the worker (queued orders go through its replay-aware router).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest
from dependency_injector import providers

from tests.support.candles import walk
from tests.support.replay_world import Monotonic, bar
from tests.unit.http.conftest import T0, Api, api_container, running_api
from tradesim.adapters.memory.clock import FixedClock
from tradesim.application.replay.runner import ReplayRunner
from tradesim.domain.bars import day_start_ms
from tradesim.entrypoints.http.app import ApiOptions
from tradesim.entrypoints.roles import ContainerOptions

D1, D2 = date(2024, 1, 1), date(2024, 1, 2)
T1, T2 = day_start_ms(D1), day_start_ms(D2)
MIN = 60_000
#: Two days of 1m bars around 42000, far from the live ticker the tests set at 30000.
CANDLES = walk("BTCUSDT", T1, 2 * 1440, seed=11, price="42000.0")


@attrs.define
class Replays:
    api: Api
    monotonic: Monotonic

    @property
    def runner(self) -> ReplayRunner:
        return self.api.container.replay.runner()

    async def create(self, headers: dict[str, str], start: int = T1, speed: str = "10", **more: Any) -> dict[str, Any]:
        response = await self.api.client.post(
            "/api/v1/replays", json={"symbol": "BTCUSDT", "start": start, "speed": speed, **more}, headers=headers
        )
        assert response.status_code == 201, await response.get_data()
        return await response.get_json()

    async def control(self, headers: dict[str, str], replay_id: str, action: str, **fields: Any) -> Any:
        return await self.api.client.post(
            f"/api/v1/replays/{replay_id}/control", json={"action": action, **fields}, headers=headers
        )

    async def ok(self, headers: dict[str, str], replay_id: str, action: str, **fields: Any) -> dict[str, Any]:
        response = await self.control(headers, replay_id, action, **fields)
        assert response.status_code == 200, await response.get_data()
        return await response.get_json()

    async def get(self, headers: dict[str, str], path: str) -> Any:
        response = await self.api.client.get(path, headers=headers)
        assert response.status_code == 200, (path, await response.get_data())
        return await response.get_json()

    async def order(self, headers: dict[str, str], account_id: str, **fields: Any) -> Any:
        body = {"accountId": account_id, "symbol": "BTCUSDT", "side": "Buy", "orderType": "Market", "qty": "0.010"}
        return await self.api.client.post("/api/v1/orders", json={**body, **fields}, headers=headers)

    async def play_for(self, seconds: float) -> int:
        """Let `seconds` of the runner's time pass and play what is due."""
        self.monotonic.advance(seconds)
        return await self.runner.round()


@pytest.fixture
async def replays(tmp_path: Path) -> AsyncIterator[Replays]:
    clock = FixedClock(T0)
    container = api_container(tmp_path, clock=clock, options=ContainerOptions(replay_dispatch="runner"))
    monotonic = Monotonic()
    replay = container.replay
    container.replay.runner.override(
        providers.Singleton(
            ReplayRunner,
            ports=replay.ports,
            cache=replay.cache,
            inbox=replay.inbox,
            owner="api-test",
            monotonic_ns=monotonic,
        )
    )
    async with running_api(container, clock, ApiOptions(rate_limits=False)) as api:
        await api.history(CANDLES)
        yield Replays(api, monotonic)
        await container.replay.runner().close()


def price(value: str) -> Decimal:
    return Decimal(value)


async def _next(ws: Any) -> dict[str, Any]:
    async with asyncio.timeout(2.0):
        return json.loads(await ws.receive())


async def _until(ws: Any, topic: str) -> dict[str, Any]:
    while True:
        message = await _next(ws)
        if message.get("topic") == topic:
            return message


# -- sessions -----------------------------------------------------------------------------------


async def test_create_get_and_list_a_replay_on_its_own_account(replays: Replays) -> None:
    headers = await replays.api.user("a@example.com")
    created = await replays.create(headers, T1 + 90 * MIN + 5, "10", startingBalance="5000")
    assert {k: created[k] for k in ("symbol", "category", "state", "start", "cursor", "clock", "speed")} == {
        "symbol": "BTCUSDT",
        "category": "linear",
        "state": "paused",
        "start": T1 + 90 * MIN + 5,
        "cursor": T1 + 90 * MIN,
        "clock": T1 + 90 * MIN - 1,
        "speed": "10",
    }
    assert (created["barsPlayed"], created["lastCandle"]) == (0, None)
    # Nothing played yet: its orders would be checked and filled at the close of the bar before the start.
    assert price(created["lastPrice"]) == CANDLES[89].close
    replay_id, account_id = created["replayId"], created["accountId"]

    account = await replays.get(headers, f"/api/v1/accounts/{account_id}")
    assert (account["kind"], account["walletBalance"]) == ("replay", "5000")
    assert account["name"] == "Replay BTCUSDT from 2024-01-01"
    assert await replays.get(headers, f"/api/v1/replays/{replay_id}") == created
    listed = await replays.get(headers, "/api/v1/replays")
    assert [(r["replayId"], r["accountId"], r["lastCandle"], r["lastPrice"]) for r in listed["list"]] == [
        (replay_id, account_id, None, "")
    ]
    second = await replays.create(headers, T2)
    listed = await replays.get(headers, "/api/v1/replays?limit=1")
    assert [r["replayId"] for r in listed["list"]] == [second["replayId"]]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"symbol": "DOGEUSDT", "start": T1, "speed": "1"}, 422, "UNKNOWN_SYMBOL"),
        ({"symbol": "ETHUSDT", "start": T1, "speed": "1"}, 422, "NO_HISTORY"),
        ({"symbol": "BTCUSDT", "start": day_start_ms(date(2024, 1, 3)), "speed": "1"}, 422, "NO_HISTORY"),
        ({"symbol": "BTCUSDT", "start": T1, "speed": "5000"}, 400, "INVALID_INPUT"),
        ({"symbol": "BTCUSDT", "start": T1, "speed": "0.01"}, 400, "INVALID_INPUT"),
        ({"symbol": "BTCUSDT", "start": T1, "speed": 10}, 400, "INVALID_REQUEST"),
        ({"symbol": "BTCUSDT", "start": T1}, 400, "INVALID_REQUEST"),
        ({"symbol": "BTCUSDT", "start": "yesterday", "speed": "1"}, 400, "INVALID_REQUEST"),
        ({"symbol": "BTCUSDT", "start": -1, "speed": "1"}, 400, "INVALID_REQUEST"),
        ({"symbol": "BTCUSDT", "start": T1, "speed": "1", "startingBalance": "-5"}, 400, "INVALID_REQUEST"),
    ],
)
async def test_a_replay_that_cannot_be_played_is_refused_and_opens_no_account(
    replays: Replays, body: dict[str, Any], status: int, code: str
) -> None:
    headers = await replays.api.user("a@example.com")
    response = await replays.api.client.post("/api/v1/replays", json=body, headers=headers)
    assert response.status_code == status, await response.get_data()
    error = (await response.get_json())["error"]
    assert error["code"] == code
    if code == "NO_HISTORY":
        assert "tradesim history backfill" in error["message"]
    assert (await replays.get(headers, "/api/v1/accounts"))["list"] == []
    assert (await replays.get(headers, "/api/v1/replays"))["list"] == []


async def test_every_control_and_the_ones_a_state_forbids(replays: Replays) -> None:
    headers = await replays.api.user("a@example.com")
    replay_id = (await replays.create(headers, T1, "10"))["replayId"]

    stepped = await replays.ok(headers, replay_id, "step")
    assert (stepped["state"], stepped["barsPlayed"], stepped["cursor"], stepped["clock"]) == (
        "paused",
        1,
        T1 + MIN,
        T1 + MIN - 1,
    )
    assert stepped["lastCandle"]["start"] == T1
    assert price(stepped["lastCandle"]["close"]) == CANDLES[0].close == price(stepped["lastPrice"])

    assert (await replays.ok(headers, replay_id, "play"))["state"] == "playing"
    assert (await replays.ok(headers, replay_id, "play"))["state"] == "playing", "a retried play is harmless"
    refused = await replays.control(headers, replay_id, "step")
    assert refused.status_code == 409
    assert (await refused.get_json())["error"] == {
        "code": "REPLAY_STATE_CONFLICT",
        "message": "cannot step a playing replay: pause the replay before stepping",
    }
    assert await replays.play_for(1.0) == 10  # 10 bars a second
    assert (await replays.ok(headers, replay_id, "speed", speed="100"))["speed"] == "100"
    assert await replays.play_for(1.0) == 100
    paused = await replays.ok(headers, replay_id, "pause")
    assert (paused["state"], paused["barsPlayed"], paused["cursor"]) == ("paused", 111, T1 + 111 * MIN)
    assert paused["lastCandle"]["start"] == T1 + 110 * MIN
    assert await replays.play_for(5.0) == 0
    assert (await replays.get(headers, f"/api/v1/replays/{replay_id}"))["barsPlayed"] == 111

    sought = await replays.ok(headers, replay_id, "seek", to=T2 + 30 * MIN + 7)
    assert (sought["state"], sought["cursor"], sought["clock"], sought["lastCandle"]) == (
        "paused",
        T2 + 30 * MIN,
        T2 + 30 * MIN - 1,
        None,
    )
    assert price(sought["lastPrice"]) == CANDLES[1440 + 29].close
    too_far = await replays.control(headers, replay_id, "seek", to=day_start_ms(date(2024, 2, 1)))
    assert (too_far.status_code, (await too_far.get_json())["error"]["code"]) == (422, "NO_HISTORY")
    for fields in ({"action": "seek"}, {"action": "speed"}, {"action": "speed", "speed": "0"}, {"action": "jump"}):
        response = await replays.api.client.post(f"/api/v1/replays/{replay_id}/control", json=fields, headers=headers)
        assert response.status_code == 400, fields

    # The end of stored history: the last bar, then a step with nothing left finishes the replay.
    await replays.ok(headers, replay_id, "seek", to=T2 + 1439 * MIN)
    assert (await replays.ok(headers, replay_id, "step"))["lastCandle"]["start"] == T2 + 1439 * MIN
    finished = await replays.ok(headers, replay_id, "step")
    assert (finished["state"], finished["cursor"]) == ("finished", T2 + 1440 * MIN)
    for action in ("play", "pause", "step"):
        response = await replays.control(headers, replay_id, action)
        assert response.status_code == 409, action
        assert (await response.get_json())["error"]["code"] == "REPLAY_STATE_CONFLICT"
    assert (await replays.ok(headers, replay_id, "speed", speed="2.5"))["state"] == "finished"
    assert (await replays.ok(headers, replay_id, "seek", to=T1))["state"] == "paused"


async def test_controls_through_the_inbox_reach_a_runner_elsewhere(api: Api) -> None:
    """`tradesim api` (the default): controls are queued for whichever runner holds the session."""
    await api.history(CANDLES[:120])
    headers = await api.user("a@example.com")
    response = await api.client.post(
        "/api/v1/replays", json={"symbol": "BTCUSDT", "start": T1, "speed": "1"}, headers=headers
    )
    replay_id = (await response.get_json())["replayId"]
    played = await api.client.post(f"/api/v1/replays/{replay_id}/control", json={"action": "play"}, headers=headers)
    assert (played.status_code, (await played.get_json())["state"]) == (200, "playing")
    assert api.container.replay.inbox().pending(replay_id) == 1
    # Checked against the stored session, as the runner would: it is paused until a runner takes the play.
    stepped = await api.client.post(f"/api/v1/replays/{replay_id}/control", json={"action": "step"}, headers=headers)
    assert stepped.status_code == 200
    runner = api.container.replay.runner()
    try:
        await runner.round()  # adopts the session (a message waits for it) and applies both
        assert api.container.replay.inbox().pending(replay_id) == 0
        got = await (await api.client.get(f"/api/v1/replays/{replay_id}", headers=headers)).get_json()
        assert got["state"] == "playing"
        refused = await api.client.post(
            f"/api/v1/replays/{replay_id}/control", json={"action": "step"}, headers=headers
        )
        assert refused.status_code == 409
    finally:
        await runner.close()


# -- tenancy ------------------------------------------------------------------------------------


async def test_another_users_replay_is_404_everywhere_and_its_bars_are_not_theirs(replays: Replays) -> None:
    api = replays.api
    alice = await api.user("alice@example.com")
    created = await replays.create(alice, T1 + 10 * MIN)
    replay_id, account_id = created["replayId"], created["accountId"]
    bob = await api.user("bob@example.com")
    await replays.create(bob, T1)
    order = {"accountId": account_id, "side": "Buy", "orderType": "Market"}
    requests: list[tuple[str, str, dict[str, Any] | None]] = [
        ("GET", f"/api/v1/replays/{replay_id}", None),
        *[
            ("POST", f"/api/v1/replays/{replay_id}/control", {"action": a, "to": T2, "speed": "5"})
            for a in ("play", "pause", "step", "seek", "speed")
        ],
        ("POST", "/api/v1/orders", {**order, "symbol": "BTCUSDT", "qty": "0.010"}),
        ("POST", "/api/v1/orders", {**order, "symbol": "ETHUSDT", "qty": "0.10"}),
        ("GET", f"/api/v1/accounts/{account_id}", None),
        ("GET", f"/api/v1/positions?accountId={account_id}", None),
        ("GET", f"/api/v1/executions?accountId={account_id}", None),
        ("GET", f"/api/v1/ledger?accountId={account_id}", None),
        ("GET", f"/api/v1/orders?accountId={account_id}", None),
    ]  # fmt: skip
    tables = api.container.persistence.memory_database().tables
    before = attrs.asdict(tables, recurse=False)
    for method, path, body in requests:
        response = await api.client.open(path, method=method, json=body, headers=bob)
        assert response.status_code == 404, (method, path, await response.get_data())
        assert (await response.get_json())["error"]["code"] == "NOT_FOUND"
    assert attrs.asdict(tables, recurse=False) == before
    assert api.container.messaging.order_queue().pending() == 0
    assert replays.runner.active == {}, "no control of Bob's reached the runner"
    assert replay_id not in {r["replayId"] for r in (await replays.get(bob, "/api/v1/replays"))["list"]}

    token = bob["Authorization"].removeprefix("Bearer ")
    async with api.client.websocket(f"/ws?token={token}") as ws:
        await _next(ws)
        await ws.send(json.dumps({"op": "subscribe", "args": [f"replay.{replay_id}", "replay.nope"], "req_id": "r"}))
        answer = await _next(ws)
        assert (answer["success"], answer["req_id"]) == (False, "r")
        assert f"replay.{replay_id}" in answer["ret_msg"]
        assert "replay.nope" in answer["ret_msg"]
        await replays.ok(alice, replay_id, "step")
        await ws.send(json.dumps({"op": "ping"}))
        assert (await _next(ws))["ret_msg"] == "pong", "no bar of Alice's replay reached Bob"
    assert api.container.api.replay_feed().following == set()


# -- trading ------------------------------------------------------------------------------------


async def test_a_replay_account_trades_through_the_order_routes_at_the_replays_prices(replays: Replays) -> None:
    api = replays.api
    await api.tick(last="30000.0")  # the live market, which a replay account must never see
    headers = await api.user("a@example.com")
    created = await replays.create(headers, T1 + 60 * MIN, "10")
    replay_id, account_id = created["replayId"], created["accountId"]
    entry = CANDLES[59].close

    # Checked against the replay's price: a rises-to trigger under it is refused (the live 30000 would pass).
    refused = await replays.order(headers, account_id, triggerPrice="35000.0", triggerDirection=1)
    assert refused.status_code == 422
    assert (await refused.get_json())["error"]["code"] == "INVALID_TRIGGER"
    assert str(entry.normalize()) in (await refused.get_json())["error"]["message"]
    other = await replays.order(headers, account_id, symbol="ETHUSDT", qty="0.10")
    assert other.status_code == 422
    assert (await other.get_json())["error"]["code"] == "NOT_REPLAY_SYMBOL"

    bought = await replays.order(headers, account_id, orderLinkId="open-1")
    assert bought.status_code == 201, await bought.get_data()
    assert await api.drain() == [], "the command went to the replay's session, not the live engine"
    assert not api.container.engine().has_account(account_id)
    [fill] = (await replays.get(headers, f"/api/v1/executions?accountId={account_id}"))["list"]
    assert (fill["orderId"], price(fill["execPrice"]), fill["execTime"]) == (
        (await bought.get_json())["orderId"],
        entry,
        T1 + 60 * MIN - 1,
    )
    [position] = (await replays.get(headers, f"/api/v1/positions?accountId={account_id}"))["list"]
    assert (position["side"], position["size"], price(position["markPrice"])) == ("Buy", "0.01", entry)

    await replays.ok(headers, replay_id, "play")
    assert await replays.play_for(3.0) == 30
    await replays.ok(headers, replay_id, "pause")
    now = CANDLES[89].close
    assert price((await replays.get(headers, f"/api/v1/replays/{replay_id}"))["lastPrice"]) == now
    [position] = (await replays.get(headers, f"/api/v1/positions?accountId={account_id}"))["list"]
    assert price(position["markPrice"]) == now
    assert price(position["unrealisedPnl"]) == (now - entry) * Decimal("0.01")
    account = await replays.get(headers, f"/api/v1/accounts/{account_id}")
    assert price(account["unrealisedPnl"]) == (now - entry) * Decimal("0.01")
    listed = {a["accountId"]: a for a in (await replays.get(headers, "/api/v1/accounts"))["list"]}
    assert listed[account_id] == account

    sold = await replays.order(headers, account_id, side="Sell", reduceOnly=True)
    assert sold.status_code == 201
    await api.drain()
    fills = (await replays.get(headers, f"/api/v1/executions?accountId={account_id}"))["list"]
    assert [(f["side"], price(f["execPrice"]), f["execTime"]) for f in fills] == [
        ("Sell", now, T1 + 90 * MIN - 1),
        ("Buy", entry, T1 + 60 * MIN - 1),
    ]
    assert (await replays.get(headers, f"/api/v1/positions?accountId={account_id}"))["list"] == []
    ledger = (await replays.get(headers, f"/api/v1/ledger?accountId={account_id}"))["list"]
    assert sum(price(e["change"]) for e in ledger) == price(
        (await replays.get(headers, f"/api/v1/accounts/{account_id}"))["walletBalance"]
    )
    orders = (await replays.get(headers, f"/api/v1/orders?accountId={account_id}"))["list"]
    assert {o["orderStatus"] for o in orders} == {"Filled"}


async def test_a_long_with_stop_loss_and_take_profit_inside_one_bullish_bar_is_stopped_out(replays: Replays) -> None:
    api = replays.api
    start = day_start_ms(date(2024, 6, 1))
    # A flat bar to enter on, then a bullish bar touching both: open -> low -> high -> close.
    flat = bar(start, "30000.0", "30000.0", "30000.0", "30000.0")
    await api.history([flat, bar(start + MIN, "30000.0", "30150.0", "29850.0", "30050.0")])
    headers = await api.user("a@example.com")
    created = await replays.create(headers, start)
    replay_id, account_id = created["replayId"], created["accountId"]
    await replays.ok(headers, replay_id, "step")
    placed = await replays.order(headers, account_id, takeProfit="30100.0", stopLoss="29900.0")
    assert placed.status_code == 201, await placed.get_data()
    await api.drain()
    [position] = (await replays.get(headers, f"/api/v1/positions?accountId={account_id}"))["list"]
    assert (position["takeProfit"], position["stopLoss"]) == ("30100", "29900")

    stepped = await replays.ok(headers, replay_id, "step")
    assert price(stepped["lastCandle"]["open"]) < price(stepped["lastCandle"]["close"])
    assert (await replays.get(headers, f"/api/v1/positions?accountId={account_id}"))["list"] == []
    closing, opening = (await replays.get(headers, f"/api/v1/executions?accountId={account_id}"))["list"]
    assert (opening["side"], price(opening["execPrice"])) == ("Buy", Decimal(30000))
    # The low comes first in a bullish bar: stopped out there, a quarter into the minute.
    assert (closing["side"], price(closing["execPrice"]), closing["execTime"]) == (
        "Sell",
        Decimal(29850),
        start + MIN + 15_000,
    )
    orders = {o["orderId"]: o for o in (await replays.get(headers, f"/api/v1/orders?accountId={account_id}"))["list"]}
    by_type = {o["stopOrderType"]: o["orderStatus"] for o in orders.values() if o["stopOrderType"]}
    assert by_type["StopLoss"] == "Filled"
    assert by_type.get("TakeProfit") != "Filled"
    assert orders[closing["orderId"]]["stopOrderType"] == "StopLoss"


# -- the socket ---------------------------------------------------------------------------------


async def test_replay_topic_pushes_each_bar_and_the_account_events_come_on_the_usual_topics(
    replays: Replays,
) -> None:
    api = replays.api
    headers = await api.user("a@example.com")
    token = headers["Authorization"].removeprefix("Bearer ")
    async with api.client.websocket(f"/ws?token={token}") as ws:
        await _next(ws)
        await ws.send(json.dumps({"op": "subscribe", "args": ["order", "execution", "position", "wallet"]}))
        assert (await _next(ws))["success"] is True
        # Opened while connected: the socket follows the new replay account too.
        created = await replays.create(headers, T1 + 60 * MIN)
        replay_id, account_id = created["replayId"], created["accountId"]
        topic = f"replay.{replay_id}"
        await ws.send(json.dumps({"op": "subscribe", "args": [topic]}))
        assert (await _next(ws))["success"] is True

        stepped = await replays.ok(headers, replay_id, "step")
        assert await _next(ws) == {"topic": topic, "data": [stepped["lastCandle"]]}
        kline = stepped["lastCandle"]
        assert (kline["start"], kline["end"], kline["interval"], kline["confirm"]) == (
            T1 + 60 * MIN,
            T1 + 61 * MIN - 1,
            "1",
            True,
        )
        c = CANDLES[60]
        assert [price(kline[k]) for k in ("open", "high", "low", "close", "volume")] == [
            c.open,
            c.high,
            c.low,
            c.close,
            c.volume,
        ]
        await replays.ok(headers, replay_id, "play")
        assert await replays.play_for(0.5) == 5
        pushed = [await _next(ws) for _ in range(5)]
        assert [p["data"][0]["start"] for p in pushed] == [T1 + (61 + i) * MIN for i in range(5)]
        assert {p["topic"] for p in pushed} == {topic}
        await replays.ok(headers, replay_id, "pause")

        assert (await replays.order(headers, account_id)).status_code == 201
        await api.drain()
        execution = await _until(ws, "execution")
        assert (execution["data"][0]["accountId"], price(execution["data"][0]["execPrice"])) == (
            account_id,
            CANDLES[65].close,
        )
        position = await _until(ws, "position")
        assert price(position["data"][0]["markPrice"]) == CANDLES[65].close
        wallet = await _until(ws, "wallet")
        assert wallet["data"][0]["accountId"] == account_id

        assert api.container.api.replay_feed().following == {replay_id}
        await ws.send(json.dumps({"op": "unsubscribe", "args": [topic]}))
        assert (await _next(ws))["success"] is True
        assert api.container.api.replay_feed().following == set()
        await replays.ok(headers, replay_id, "step")
        await ws.send(json.dumps({"op": "ping"}))
        assert (await _next(ws))["ret_msg"] == "pong", "no bar after unsubscribing"
