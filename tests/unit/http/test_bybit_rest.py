"""`/v5`: Bybit's envelope, retCodes, signing and window, and the endpoints translated to the use
cases `/api/v1` calls, on the in-memory api with a fixed clock."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.unit.http.bybit_client import BybitClient, new_key, trader
from tests.unit.http.conftest import Api
from tradesim.domain.enums import Category
from tradesim.domain.market import Ticker


def assert_envelope(body: dict[str, Any], ret_code: int = 0) -> dict[str, Any]:
    assert set(body) == {"retCode", "retMsg", "result", "retExtInfo", "time"}
    assert isinstance(body["time"], int)
    assert body["retCode"] == ret_code, body
    result: dict[str, Any] = body["result"]
    return result


async def test_public_market_routes_answer_bybits_shapes(api: Api) -> None:
    body = await (await api.client.get("/v5/market/time")).get_json()
    assert assert_envelope(body)["timeSecond"] == str(api.clock.now_ms() // 1000)
    linear = assert_envelope(await (await api.client.get("/v5/market/instruments-info?category=linear")).get_json())
    assert linear["category"] == "linear"
    btc = next(i for i in linear["list"] if i["symbol"] == "BTCUSDT")
    assert btc["contractType"] == "LinearPerpetual"
    assert btc["settleCoin"] == "USDT"
    assert set(btc["lotSizeFilter"]) >= {"qtyStep", "minOrderQty", "maxOrderQty", "minNotionalValue"}
    prelaunch = await api.client.get("/v5/market/instruments-info?category=linear&limit=1000&status=PreLaunch")
    assert assert_envelope(await prelaunch.get_json())["list"] == []
    for other in ("inverse", "option&baseCoin=BTC"):
        answer = await (await api.client.get(f"/v5/market/instruments-info?category={other}")).get_json()
        assert assert_envelope(answer)["list"] == []
    await api.tick("BTCUSDT", last="30000.0")
    tickers = assert_envelope(await (await api.client.get("/v5/market/tickers?category=linear")).get_json())
    assert [(t["symbol"], t["ask1Price"], t["bid1Price"]) for t in tickers["list"]] == [("BTCUSDT", "30000", "29999.9")]
    book = assert_envelope(
        await (await api.client.get("/v5/market/orderbook?category=linear&symbol=BTCUSDT")).get_json()
    )
    assert (book["b"], book["a"]) == ([["29999.9", "0"]], [["30000", "0"]])


async def test_instruments_page_with_a_cursor_until_it_is_empty(api: Api) -> None:
    seen: list[str] = []
    cursor = ""
    for _ in range(10):
        body = await (
            await api.client.get(f"/v5/market/instruments-info?category=linear&limit=1&cursor={cursor}")
        ).get_json()
        result = assert_envelope(body)
        seen.extend(i["symbol"] for i in result["list"])
        cursor = result["nextPageCursor"]
        if not cursor:
            break
    everything = assert_envelope(await (await api.client.get("/v5/market/instruments-info?category=linear")).get_json())
    assert seen == [i["symbol"] for i in everything["list"]]
    assert len(seen) > 1


async def test_a_market_buy_fills_at_the_ask_and_shows_on_every_read(api: Api) -> None:
    bot, _ = await trader(api)
    await api.tick("BTCUSDT", last="30000.0")
    created = await bot.post(
        "order/create",
        {"category": "linear", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Market", "qty": "0.010"},
    )
    order_id = assert_envelope(created)["orderId"]
    await api.drain()
    order = assert_envelope(await bot.get("order/realtime", f"category=linear&orderId={order_id}"))["list"][0]
    assert (order["orderStatus"], order["avgPrice"], order["cumExecQty"]) == ("Filled", "30000", "0.01")
    assert "tpslMode" in order
    assert assert_envelope(await bot.get("order/realtime", "category=linear"))["list"] == []
    history = assert_envelope(await bot.get("order/history", "category=linear"))["list"]
    assert [o["orderId"] for o in history] == [order_id]
    fills = assert_envelope(await bot.get("execution/list", "execType=Trade&symbol=BTCUSDT&category=linear"))["list"]
    assert [(f["orderId"], f["execPrice"], f["execQty"], f["isMaker"]) for f in fills] == [
        (order_id, "30000", "0.01", False)
    ]
    positions = assert_envelope(await bot.get("position/list", "category=linear&settleCoin=USDT"))["list"]
    assert [(p["symbol"], p["side"], p["size"], p["avgPrice"]) for p in positions] == [
        ("BTCUSDT", "Buy", "0.01", "30000")
    ]
    assert "closedSize" not in positions[0]
    wallet = assert_envelope(await bot.get("account/wallet-balance", "accountType=UNIFIED"))["list"][0]
    assert wallet["accountType"] == "UNIFIED"
    assert wallet["coin"][0]["coin"] == "USDT"
    assert wallet["coin"][0]["walletBalance"] == "9999.835"  # 10000 less the taker fee of 0.055% of 300


async def test_a_limit_order_is_amended_then_cancelled_and_cancel_all_empties_the_book(api: Api) -> None:
    bot, _ = await trader(api)
    await api.tick("BTCUSDT", last="30000.0")
    body = {"category": "linear", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Limit", "qty": "0.010"}
    first = assert_envelope(await bot.post("order/create", body | {"price": "25000", "orderLinkId": "mine-1"}))
    assert first["orderLinkId"] == "mine-1"
    await api.drain()
    amended = await bot.post(
        "order/amend", {"category": "linear", "symbol": "BTCUSDT", "orderLinkId": "mine-1", "price": "25100"}
    )
    assert assert_envelope(amended)["orderId"] == first["orderId"]
    await api.drain()
    listed = assert_envelope(await bot.get("order/realtime", "category=linear&symbol=BTCUSDT"))["list"]
    assert [(o["orderId"], o["price"], o["orderStatus"]) for o in listed] == [(first["orderId"], "25100", "New")]
    cancelled = await bot.post("order/cancel", {"category": "linear", "symbol": "BTCUSDT", "orderId": first["orderId"]})
    assert assert_envelope(cancelled)["orderId"] == first["orderId"]
    await api.drain()
    again = await bot.post("order/cancel", {"category": "linear", "symbol": "BTCUSDT", "orderId": first["orderId"]})
    assert_envelope(again, 110001)
    for price in ("24000", "24100"):
        assert_envelope(await bot.post("order/create", body | {"price": price}))
    await api.drain()
    everything = assert_envelope(await bot.post("order/cancel-all", {"category": "linear", "symbol": "BTCUSDT"}))
    assert len(everything["list"]) == 2
    await api.drain()
    assert assert_envelope(await bot.get("order/realtime", "category=linear"))["list"] == []


async def test_refusals_are_http_200_with_bybits_ret_codes(api: Api) -> None:
    bot, _ = await trader(api)
    await api.tick("BTCUSDT", last="30000.0")
    order = {"category": "linear", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Market", "qty": "0.010"}
    assert_envelope(await bot.post("order/create", order | {"qty": "0.0105"}), 10001)  # off the qty step
    assert_envelope(await bot.post("order/create", order | {"symbol": "NOPEUSDT"}), 10001)
    # Margin is the engine's to judge, after the answer (as on /api/v1): the order ends Rejected.
    too_big = assert_envelope(await bot.post("order/create", order | {"qty": "100"}))["orderId"]
    await api.drain()
    rejected = assert_envelope(await bot.get("order/realtime", f"category=linear&orderId={too_big}"))["list"]
    assert rejected[0]["orderStatus"] == "Rejected"
    assert_envelope(await bot.post("order/create", order | {"side": "Up"}), 10001)
    assert_envelope(await bot.post("order/create", order | {"category": "inverse"}), 10001)
    assert_envelope(await bot.get("order/realtime", "category=linear&orderId=nope"))  # an empty list, as Bybit
    assert_envelope(await bot.post("order/cancel", {"category": "linear", "orderId": "nope"}), 110001)
    unknown = await api.client.get("/v5/order/nothing-here")
    assert unknown.status_code == 200
    assert_envelope(await unknown.get_json(), 10017)
    raw = "{not json"
    broken = await api.client.post("/v5/order/create", data=raw, headers=bot.headers(raw))
    assert_envelope(await broken.get_json(), 10001)


async def test_signature_window_and_key_are_checked_as_bybit_does(api: Api) -> None:
    bot, _ = await trader(api)
    now = api.clock.now_ms()
    assert_envelope(await bot.get("account/info", timestamp=now - 4999))
    assert_envelope(await bot.get("account/info", timestamp=now - 5001), 10002)
    assert_envelope(await bot.get("account/info", timestamp=now + 999))
    assert_envelope(await bot.get("account/info", timestamp=now + 1000), 10002)
    assert_envelope(await bot.get("account/info", secret="x" * 36), 10004)
    stranger = BybitClient(api, "NOSUCHKEY000000000", "y" * 36)
    assert_envelope(await stranger.get("account/info"), 10003)
    # GET: the query string as sent, in the client's order (ccxt does not sort).
    assert_envelope(await bot.get("execution/list", "execType=Trade&symbol=BTCUSDT&category=linear"))
    # POST: the body bytes as sent (pybit's JSON has spaces, ccxt's none).
    raw = '{"category":"linear","symbol":"BTCUSDT","orderId":"x"}'
    response = await api.client.post("/v5/order/cancel", data=raw, headers=bot.headers(raw))
    assert_envelope(await response.get_json(), 110001)
    respaced = raw.replace(",", ", ")
    response = await api.client.post("/v5/order/cancel", data=respaced, headers=bot.headers(raw))
    assert_envelope(await response.get_json(), 10004)


async def test_a_revoked_key_fails_on_its_next_request(api: Api) -> None:
    headers = await api.user("alice@example.com")
    account = await api.account(headers)
    bot = await new_key(api, headers, account["accountId"])
    assert_envelope(await bot.get("account/info"))
    listed = await (await api.client.get("/api/v1/api-keys", headers=headers)).get_json()
    await api.client.delete(f"/api/v1/api-keys/{listed['list'][0]['apiKeyId']}", headers=headers)
    assert_envelope(await bot.get("account/info"), 10003)


async def test_a_read_only_key_reads_but_never_trades(api: Api) -> None:
    reader, _ = await trader(api, read_only=True)
    await api.tick("BTCUSDT", last="30000.0")
    assert_envelope(await reader.get("account/wallet-balance", "accountType=UNIFIED"))
    order = {"category": "linear", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Market", "qty": "0.010"}
    assert_envelope(await reader.post("order/create", order), 10005)
    assert_envelope(
        await reader.post(
            "position/set-leverage",
            {"category": "linear", "symbol": "BTCUSDT", "buyLeverage": "5", "sellLeverage": "5"},
        ),
        10005,
    )
    assert await api.drain() == []


async def test_a_key_reaches_only_its_own_account(api: Api) -> None:
    alice = await api.user("alice@example.com")
    first, second = await api.account(alice, "One"), await api.account(alice, "Two")
    one = await new_key(api, alice, first["accountId"])
    two = await new_key(api, alice, second["accountId"])
    mallory, _ = await trader(api, "mallory@example.com")
    await api.tick("BTCUSDT", last="30000.0")
    limit = {
        "category": "linear",
        "symbol": "BTCUSDT",
        "side": "Buy",
        "orderType": "Limit",
        "qty": "0.010",
        "price": "25000",
    }
    order_id = assert_envelope(await one.post("order/create", limit))["orderId"]
    await api.drain()
    for other in (two, mallory):
        assert assert_envelope(await other.get("order/realtime", f"category=linear&orderId={order_id}"))["list"] == []
        assert assert_envelope(await other.get("order/realtime", "category=linear"))["list"] == []
        assert_envelope(await other.post("order/cancel", {"category": "linear", "orderId": order_id}), 110001)
        assert_envelope(
            await other.post("order/amend", {"category": "linear", "orderId": order_id, "price": "1"}), 110001
        )
    assert len(assert_envelope(await one.get("order/realtime", "category=linear"))["list"]) == 1


async def test_too_many_requests_of_one_key_answer_10006_with_bybits_headers(api: Api) -> None:
    bot, _ = await trader(api)
    limit = api.app.extensions["bybit"].limits.per_second
    for _ in range(limit):
        response = await api.client.get("/v5/account/info", headers=bot.headers(""))
        assert (await response.get_json())["retCode"] == 0
    assert response.headers["X-Bapi-Limit"] == str(limit)
    assert response.headers["X-Bapi-Limit-Status"] == "0"
    refused = await api.client.get("/v5/account/info", headers=bot.headers(""))
    assert (await refused.get_json())["retCode"] == 10006
    reset = int(refused.headers["X-Bapi-Limit-Reset-Timestamp"])
    assert reset > api.clock.now_ms()
    api.clock.advance(reset - api.clock.now_ms())
    assert (await bot.get("account/info"))["retCode"] == 0


async def test_ccxts_start_up_calls_are_answered(api: Api) -> None:
    bot, _ = await trader(api)
    assert assert_envelope(await bot.get("asset/coin/query-info"))["rows"] == []
    key = assert_envelope(await bot.get("user/query-api"))
    assert (key["uta"], key["apiKey"], key["secret"]) == (1, bot.key, "")
    assert assert_envelope(await bot.get("account/info"))["unifiedMarginStatus"] == 6
    fees = assert_envelope(await bot.get("account/fee-rate", "category=linear&symbol=BTCUSDT"))["list"]
    assert fees[0]["takerFeeRate"] == "0.00055"


async def test_a_spot_market_buy_takes_its_qty_in_the_quote_coin_as_bybit_does(api: Api) -> None:
    bot, _ = await trader(api)
    await api.tick("BTCUSDT", last="30000.0")
    spot = api.container.core.catalog().get("BTCUSDT", Category.SPOT)
    spot_ticker = Ticker.of(
        "BTCUSDT", last="30000", bid="29999.99", ask="30000", ts=api.clock.now_ms(), category=Category.SPOT
    )
    await api.container.messaging.price_bus().publish(spot_ticker)
    await api.container.engine_service().on_market(spot_ticker)
    order = {"category": "spot", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Market"}
    quote = assert_envelope(await bot.post("order/create", order | {"qty": "300"}))["orderId"]
    base = assert_envelope(await bot.post("order/create", order | {"qty": "0.002", "marketUnit": "baseCoin"}))[
        "orderId"
    ]
    realtime = {
        oid: assert_envelope(await bot.get("order/realtime", f"category=spot&orderId={oid}"))["list"][0]["qty"]
        for oid in (quote, base)
    }
    # 300 USDT at 30000 buys 0.01 BTC (on the spot quantity step)
    assert spot.qty_step <= Decimal("0.01")
    assert {k: Decimal(v) for k, v in realtime.items()} == {quote: Decimal("0.01"), base: Decimal("0.002")}
    await api.drain()
    wallet = assert_envelope(await bot.get("account/wallet-balance", "accountType=UNIFIED"))["list"][0]
    coins = {c["coin"]: Decimal(c["walletBalance"]) for c in wallet["coin"]}
    assert coins["BTC"] > 0  # what the two spot buys bought (less any fee taken in BTC)
    assert coins["USDT"] < 10000
    only = assert_envelope(await bot.get("account/wallet-balance", "accountType=UNIFIED&coin=BTC"))["list"][0]
    assert [c["coin"] for c in only["coin"]] == ["BTC"]
