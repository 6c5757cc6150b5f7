"""The socket: auth, ping, subscriptions, Bybit-shaped pushes, and an order whose fill arrives on it."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from quart.testing.connections import WebsocketDisconnectError

from tests.unit.http.conftest import Api


async def _next(ws: Any) -> dict[str, Any]:
    async with asyncio.timeout(2.0):
        return json.loads(await ws.receive())


async def _until(ws: Any, topic: str) -> dict[str, Any]:
    while True:
        message = await _next(ws)
        if message.get("topic") == topic:
            return message


async def _token(api: Api, email: str) -> str:
    headers = await api.user(email)
    return headers["Authorization"].removeprefix("Bearer ")


async def test_an_order_placed_over_rest_is_filled_and_pushed_on_the_socket(api: Api) -> None:
    headers = await api.user("a@example.com")
    token = headers["Authorization"].removeprefix("Bearer ")
    account = await api.account(headers)
    async with api.client.websocket(f"/ws?token={token}") as ws:
        assert (await _next(ws))["op"] == "auth"
        await ws.send(json.dumps({"op": "subscribe", "args": ["order", "execution", "position", "wallet"]}))
        assert (await _next(ws))["success"] is True
        await api.tick(last="30000.0")
        response = await api.client.post(
            "/api/v1/orders",
            json={
                "accountId": account["accountId"],
                "symbol": "BTCUSDT",
                "side": "Buy",
                "orderType": "Market",
                "qty": "0.010",
                "orderLinkId": "my-1",
            },
            headers=headers,
        )
        assert response.status_code == 201
        order_id = (await response.get_json())["orderId"]
        await api.drain()

        execution = await _until(ws, "execution")
        [fill] = execution["data"]
        assert fill["orderId"] == order_id
        assert fill["execPrice"] == "30000"
        assert fill["execQty"] == "0.01"
        assert isinstance(execution["creationTime"], int)
        position = await _until(ws, "position")
        assert position["data"][0]["side"] == "Buy"
        assert position["data"][0]["size"] == "0.01"
        wallet = await _until(ws, "wallet")
        assert wallet["data"][0]["walletBalance"] == "9999.835"

    stored = await (await api.client.get(f"/api/v1/orders/{order_id}", headers=headers)).get_json()
    assert stored["orderStatus"] == "Filled"
    metrics = (await (await api.client.get("/metrics")).get_data()).decode()
    assert "tradesim_fills_pushed_total 1.0" in metrics
    assert "tradesim_orders_accepted_total 1.0" in metrics


async def test_auth_by_first_message_then_ticker_pushes(api: Api) -> None:
    token = await _token(api, "a@example.com")
    await api.tick(last="30000.0")
    async with api.client.websocket("/ws") as ws:
        await ws.send(json.dumps({"op": "subscribe", "args": ["tickers.BTCUSDT"]}))
        refused = await _next(ws)
        assert refused["success"] is False
        assert "authenticate" in refused["ret_msg"]
        await ws.send(json.dumps({"op": "auth", "args": [token], "req_id": "r1"}))
        assert await _next(ws) == {"success": True, "ret_msg": "", "conn_id": "c1", "op": "auth", "req_id": "r1"}
        await ws.send(json.dumps({"op": "subscribe", "args": ["tickers.BTCUSDT"]}))
        assert (await _next(ws))["success"] is True
        snapshot = await _next(ws)  # the latest ticker, at once
        assert snapshot["topic"] == "tickers.BTCUSDT"
        assert snapshot["data"]["lastPrice"] == "30000"
        await api.tick(last="30001.5")
        pushed = await _next(ws)
        assert pushed["type"] == "snapshot"
        assert pushed["data"]["lastPrice"] == "30001.5"
        assert pushed["data"]["bid1Price"] == "30001.4"
        assert pushed["ts"] == api.clock.now_ms()
        await ws.send(json.dumps({"op": "unsubscribe", "args": ["tickers.BTCUSDT"]}))
        assert (await _next(ws))["op"] == "unsubscribe"
        await api.tick(last="30002.0")
        await ws.send(json.dumps({"op": "ping", "req_id": "p"}))
        assert (await _next(ws))["ret_msg"] == "pong", "no ticker after unsubscribing"


async def test_ping_unknown_ops_topics_and_garbage_are_answered_not_fatal(api: Api) -> None:
    token = await _token(api, "a@example.com")
    async with api.client.websocket(f"/ws?token={token}") as ws:
        await _next(ws)
        await ws.send(json.dumps({"op": "ping"}))
        assert (await _next(ws))["ret_msg"] == "pong"
        await ws.send("{not json")
        assert (await _next(ws))["success"] is False
        await ws.send(json.dumps({"op": "dance"}))
        assert "unknown op" in (await _next(ws))["ret_msg"]
        await ws.send(json.dumps({"op": "subscribe", "args": ["tickers.DOGEUSDT", "order", 5]}))
        answer = await _next(ws)
        assert answer["success"] is False
        assert "tickers.DOGEUSDT" in answer["ret_msg"]


@pytest.mark.parametrize("query", ["?token=garbage", ""])
async def test_a_bad_token_or_no_auth_in_time_closes_with_4401(
    api: Api, query: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tradesim.entrypoints.http.ws import endpoint

    monkeypatch.setattr(endpoint, "AUTH_TIMEOUT_S", 0.2)
    async with api.client.websocket(f"/ws{query}") as ws:
        if query:
            answer = await _next(ws)
            assert answer["op"] == "auth"
            assert answer["success"] is False
        with pytest.raises(WebsocketDisconnectError) as closed:
            await _next(ws)
        assert closed.value.args[0] == 4401


async def test_each_user_gets_only_their_own_account_events(api: Api) -> None:
    alice = await api.user("alice@example.com")
    bob = await api.user("bob@example.com")
    alice_account = await api.account(alice)
    bob_token = bob["Authorization"].removeprefix("Bearer ")
    async with api.client.websocket(f"/ws?token={bob_token}") as ws:
        await _next(ws)
        await ws.send(json.dumps({"op": "subscribe", "args": ["order", "execution", "position", "wallet"]}))
        await _next(ws)
        await api.tick()
        await api.client.post(
            "/api/v1/orders",
            json={
                "accountId": alice_account["accountId"],
                "symbol": "BTCUSDT",
                "side": "Buy",
                "orderType": "Market",
                "qty": "0.010",
            },
            headers=alice,
        )
        await api.drain()
        await ws.send(json.dumps({"op": "ping"}))
        assert (await _next(ws))["ret_msg"] == "pong", "Bob saw nothing of Alice's fill"


async def test_an_account_opened_while_connected_is_followed(api: Api) -> None:
    headers = await api.user("a@example.com")
    token = headers["Authorization"].removeprefix("Bearer ")
    async with api.client.websocket(f"/ws?token={token}") as ws:
        await _next(ws)
        await ws.send(json.dumps({"op": "subscribe", "args": ["order"]}))
        await _next(ws)
        account = await api.account(headers)
        await api.tick()
        await api.client.post(
            "/api/v1/orders",
            json={
                "accountId": account["accountId"],
                "symbol": "BTCUSDT",
                "side": "Sell",
                "orderType": "Limit",
                "qty": "0.010",
                "price": "31000.0",
            },
            headers=headers,
        )
        await api.drain()
        pushed = await _until(ws, "order")
        assert pushed["data"][0]["orderStatus"] == "New"
        assert pushed["data"][0]["price"] == "31000"


async def test_a_cancel_the_engine_refuses_reaches_the_socket(api: Api) -> None:
    """The DELETE was answered 202 while the order was still New; it filled before the cancel
    reached the engine, which refuses it: the trader hears so on `commandRejected`."""
    headers = await api.user("a@example.com")
    token = headers["Authorization"].removeprefix("Bearer ")
    account = await api.account(headers)
    async with api.client.websocket(f"/ws?token={token}") as ws:
        assert (await _next(ws))["op"] == "auth"
        await ws.send(json.dumps({"op": "subscribe", "args": ["order", "commandRejected"]}))
        assert (await _next(ws))["success"] is True
        await api.tick(last="30000.0")
        placed = await api.client.post(
            "/api/v1/orders",
            json={
                "accountId": account["accountId"],
                "symbol": "BTCUSDT",
                "side": "Buy",
                "orderType": "Market",
                "qty": "0.010",
            },
            headers=headers,
        )
        order_id = (await placed.get_json())["orderId"]
        cancelled = await api.client.delete(f"/api/v1/orders/{order_id}", headers=headers)
        assert cancelled.status_code == 202
        await api.drain()  # the order fills first, then its cancel is refused

        rejected = await _until(ws, "commandRejected")
        assert rejected["data"] == [
            {
                "accountId": account["accountId"],
                "command": "cancel",
                "orderId": order_id,
                "error": {
                    "code": "ORDER_NOT_OPEN",
                    "message": f"order {order_id} is not open: it is filled, cancelled or unknown",
                },
            }
        ]
        assert isinstance(rejected["creationTime"], int)
