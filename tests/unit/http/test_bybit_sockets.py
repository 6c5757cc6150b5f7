"""`/v5/private` and `/v5/public/linear`: Bybit's auth, acks, pong, and pushes in Bybit's records."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from typing import Any

import pytest
from quart.testing.connections import WebsocketDisconnectError

from tests.unit.http.bybit_client import bybit_sign, trader
from tests.unit.http.conftest import T0, Api
from tradesim.domain.enums import Side
from tradesim.domain.market import Candle, Trade


async def _next(ws: Any) -> dict[str, Any]:
    async with asyncio.timeout(2.0):
        message: dict[str, Any] = json.loads(await ws.receive())
        return message


async def _until(ws: Any, topic: str) -> dict[str, Any]:
    while True:
        message = await _next(ws)
        if message.get("topic") == topic:
            return message


def _auth(key: str, secret: str, expires: int) -> str:
    return json.dumps({"op": "auth", "args": [key, str(expires), bybit_sign(secret, f"GET/realtime{expires}")]})


async def test_an_authenticated_private_socket_gets_bybits_pushes_of_its_account(api: Api) -> None:
    bot, _ = await trader(api)
    async with api.client.websocket("/v5/private") as ws:
        await ws.send(json.dumps({"op": "subscribe", "req_id": "early", "args": ["order"]}))
        early = await _next(ws)
        assert (early["success"], early["req_id"]) == (False, "early")
        await ws.send(_auth(bot.key, bot.secret, api.clock.now_ms() + 10_000))
        assert (await _next(ws)) | {"conn_id": ""} == {"success": True, "ret_msg": "", "op": "auth", "conn_id": ""}
        for n, topic in enumerate(("order", "execution", "position", "wallet")):
            await ws.send(json.dumps({"op": "subscribe", "req_id": n, "args": [topic]}))
            ack = await _next(ws)
            assert (ack["op"], ack["success"], ack["req_id"]) == ("subscribe", True, n)
        await ws.send(json.dumps({"op": "ping", "req_id": "p1"}))
        pong = await _next(ws)
        assert (pong["op"], pong["req_id"]) == ("pong", "p1")

        await api.tick(last="30000.0")
        created = await bot.post(
            "order/create",
            {"category": "linear", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Market", "qty": "0.010"},
        )
        order_id = created["result"]["orderId"]
        await api.drain()
        order = await _until(ws, "order")
        assert order["data"][0]["orderId"] == order_id
        assert "tpslMode" in order["data"][0]
        assert isinstance(order["creationTime"], int)
        [fill] = (await _until(ws, "execution"))["data"]
        assert (fill["orderId"], fill["execPrice"], fill["isMaker"], fill["category"]) == (
            order_id,
            "30000",
            False,
            "linear",
        )
        [position] = (await _until(ws, "position"))["data"]
        assert (position["side"], position["size"]) == ("Buy", "0.01")
        assert "closedSize" not in position
        [wallet] = (await _until(ws, "wallet"))["data"]
        assert (wallet["accountType"], wallet["coin"][0]["walletBalance"]) == ("UNIFIED", "9999.835")


async def test_private_auth_is_refused_for_a_past_expiry_a_wrong_signature_or_an_unknown_key(api: Api) -> None:
    bot, _ = await trader(api)
    now = api.clock.now_ms()
    for message, reason in (
        (_auth(bot.key, bot.secret, now), "expired"),
        (_auth(bot.key, "w" * 36, now + 10_000), "Invalid sign"),
        (_auth("NOSUCHKEY000000000", bot.secret, now + 10_000), "Invalid apikey"),
    ):
        async with api.client.websocket("/v5/private") as ws:
            await ws.send(message)
            answer = await _next(ws)
            assert (answer["op"], answer["success"]) == ("auth", False)
            assert reason in answer["ret_msg"]


async def test_the_public_linear_socket_pushes_tickers_and_a_depth_one_book(api: Api) -> None:
    async with api.client.websocket("/v5/public/linear") as ws:
        await ws.send(
            json.dumps({"op": "subscribe", "req_id": "s", "args": ["tickers.BTCUSDT", "orderbook.1.BTCUSDT"]})
        )
        assert (await _next(ws))["success"] is True
        await ws.send(json.dumps({"op": "subscribe", "args": ["tickers.NOPEUSDT"]}))
        assert (await _next(ws))["success"] is False
        await api.tick(last="30000.0")
        ticker = await _until(ws, "tickers.BTCUSDT")
        assert (ticker["type"], ticker["data"]["lastPrice"], ticker["data"]["markPrice"]) == (
            "snapshot",
            "30000",
            "30000",
        )
        book = await _until(ws, "orderbook.1.BTCUSDT")
        assert (book["data"]["b"][0][0], book["data"]["a"][0][0]) == ("29999.9", "30000")


async def test_the_public_linear_socket_pushes_trades_and_one_minute_candles(api: Api) -> None:
    bus = api.container.messaging.price_bus()
    async with api.client.websocket("/v5/public/linear") as ws:
        await ws.send(json.dumps({"op": "subscribe", "args": ["publicTrade.BTCUSDT", "kline.1.BTCUSDT"]}))
        assert (await _next(ws))["success"] is True
        await bus.publish(Trade("BTCUSDT", Decimal("30000.5"), Decimal("0.25"), Side.SELL, T0, trade_id="t-1"))
        trade = await _until(ws, "publicTrade.BTCUSDT")
        assert trade["data"] == [
            {"T": T0, "s": "BTCUSDT", "S": "Sell", "v": "0.25", "p": "30000.5", "i": "t-1", "BT": False}
        ]
        candle = Candle("BTCUSDT", T0 - 60_000, Decimal("1"), Decimal("3"), Decimal("0.5"), Decimal("2"), Decimal("7"))
        await bus.publish(candle)
        kline = await _until(ws, "kline.1.BTCUSDT")
        [bar] = kline["data"]
        assert (bar["start"], bar["interval"], bar["open"], bar["close"], bar["confirm"]) == (
            T0 - 60_000,
            "1",
            "1",
            "2",
            True,
        )


async def test_revoking_a_key_closes_the_private_sockets_authenticated_with_it(api: Api) -> None:
    # One process (the embedded mode): the revocation travels on the in-memory bus.
    headers = await api.user("revoke-ws@example.com")
    account = await api.account(headers)
    listed = []
    for _ in range(2):
        created = await api.client.post("/api/v1/api-keys", json={"accountId": account["accountId"]}, headers=headers)
        listed.append(await created.get_json())
    revoked, kept = listed
    async with api.client.websocket("/v5/private") as gone, api.client.websocket("/v5/private") as stays:
        for ws, key in ((gone, revoked), (stays, kept)):
            await ws.send(_auth(key["apiKey"], key["apiSecret"], api.clock.now_ms() + 10_000))
            assert (await _next(ws))["success"] is True
        deleted = await api.client.delete(f"/api/v1/api-keys/{revoked['apiKeyId']}", headers=headers)
        assert deleted.status_code == 200
        with pytest.raises(WebsocketDisconnectError) as closed:
            while True:
                await _next(gone)
        assert closed.value.args[0] == 4401
        await stays.send(json.dumps({"op": "ping", "req_id": "still"}))
        assert (await _next(stays))["op"] == "pong"
