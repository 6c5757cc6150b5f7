"""Every REST resource through the app: the happy paths and the refusals a trader meets."""

from __future__ import annotations

import gc
import re
from typing import Any

from tests.unit.http.conftest import Api
from tradesim.domain import Candle
from tradesim.domain.numbers import to_decimal

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _order(account_id: str, **fields: Any) -> dict[str, Any]:
    body = {"accountId": account_id, "symbol": "BTCUSDT", "side": "Buy", "orderType": "Market", "qty": "0.010"}
    body.update(fields)
    return body


async def _json(response: Any) -> Any:
    return await response.get_json()


async def test_accounts_show_wallet_figures_after_a_fill(api: Api) -> None:
    headers = await api.user("a@example.com")
    account = await api.account(headers, balance="5000")
    assert account["walletBalance"] == account["equity"] == account["availableBalance"] == "5000"
    await api.tick(last="30000.0")
    await api.client.post("/api/v1/orders", json=_order(account["accountId"], qty="0.100"), headers=headers)
    await api.drain()
    await api.tick(last="31000.0")
    got = await _json(await api.client.get(f"/api/v1/accounts/{account['accountId']}", headers=headers))
    # 0.1 BTC bought at 30000 (fee 1.65); mark 31000: +100 unrealised; IM 300 at 10x.
    assert got["walletBalance"] == "4998.35"
    assert got["unrealisedPnl"] == "100"
    assert got["equity"] == "5098.35"
    assert got["totalPositionIM"] == "300"
    assert got["availableBalance"] == "4798.35"
    listed = await _json(await api.client.get("/api/v1/accounts", headers=headers))
    assert [a["accountId"] for a in listed["list"]] == [account["accountId"]]


async def test_account_input_is_checked(api: Api) -> None:
    headers = await api.user("a@example.com")
    for body in ({"name": ""}, {"name": "x", "startingBalance": 100.5}, {"name": "x", "startingBalance": "1e9"}):
        response = await api.client.post("/api/v1/accounts", json=body, headers=headers)
        assert response.status_code == 400, body
    too_rich = await api.client.post(
        "/api/v1/accounts", json={"name": "x", "startingBalance": "100000001"}, headers=headers
    )
    assert too_rich.status_code == 400


async def test_json_bodies_keep_any_text_and_refuse_numbers_no_float_holds(api: Api) -> None:
    headers = await api.user("a@example.com")
    created = await api.client.post("/api/v1/accounts", json={"name": "Główny — 主"}, headers=headers)
    assert (await _json(created))["name"] == "Główny — 主"
    # Written as UTF-8, not as \u escapes six bytes a character (the standard library's default).
    assert "Główny — 主".encode() in await created.get_data()
    listed = await _json(await api.client.get("/api/v1/accounts", headers=headers))
    assert [a["name"] for a in listed["list"]] == ["Główny — 主"]
    raw = b'{"name": "x", "startingBalance": 1e999}'
    response = await api.client.post(
        "/api/v1/accounts", data=raw, headers={**headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert set((await _json(response))["error"]) == {"code", "message"}
    assert len((await _json(await api.client.get("/api/v1/accounts", headers=headers)))["list"]) == 1


async def test_orders_are_checked_recorded_queued_and_idempotent_by_link_id(api: Api) -> None:
    headers = await api.user("a@example.com")
    account_id = (await api.account(headers))["accountId"]
    await api.tick(last="30000.0")
    first = await api.client.post(
        "/api/v1/orders", json=_order(account_id, orderType="Limit", price="29000.0", orderLinkId="L1"), headers=headers
    )
    assert first.status_code == 201
    again = await api.client.post(
        "/api/v1/orders", json=_order(account_id, orderType="Limit", price="28000.0", orderLinkId="L1"), headers=headers
    )
    assert again.status_code == 200
    assert (await _json(again))["orderId"] == (await _json(first))["orderId"]
    assert (await _json(again))["price"] == "29000"
    queue = api.container.messaging.order_queue()
    assert queue.pending() == 1, "the repeat queued nothing"

    off_tick = await api.client.post(
        "/api/v1/orders", json=_order(account_id, orderType="Limit", price="29000.05"), headers=headers
    )
    assert off_tick.status_code == 422
    assert (await _json(off_tick))["error"]["code"] == "PRICE_OFF_TICK"
    too_small = await api.client.post("/api/v1/orders", json=_order(account_id, qty="0.0001"), headers=headers)
    assert (await _json(too_small))["error"]["code"] in ("QTY_OFF_STEP", "QTY_BELOW_MINIMUM")
    unknown = await api.client.post("/api/v1/orders", json=_order(account_id, symbol="DOGEUSDT"), headers=headers)
    assert unknown.status_code == 422
    assert queue.pending() == 1, "refused orders are never queued"

    order_id = (await _json(first))["orderId"]
    listed = await _json(await api.client.get(f"/api/v1/orders?accountId={account_id}&openOnly=true", headers=headers))
    assert [o["orderId"] for o in listed["list"]] == [order_id]
    amended = await api.client.patch(f"/api/v1/orders/{order_id}", json={"price": "29500.0"}, headers=headers)
    assert amended.status_code == 202
    cancelled = await api.client.delete(f"/api/v1/orders/{order_id}", headers=headers)
    assert cancelled.status_code == 202
    await api.drain()
    stored = await _json(await api.client.get(f"/api/v1/orders/{order_id}", headers=headers))
    assert stored["orderStatus"] == "Cancelled"
    assert stored["price"] == "29500"
    closed = await api.client.delete(f"/api/v1/orders/{order_id}", headers=headers)
    assert closed.status_code == 409
    assert (await _json(closed))["error"]["code"] == "ORDER_NOT_OPEN"


async def test_bad_order_bodies_are_400s_in_the_error_shape(api: Api) -> None:
    headers = await api.user("a@example.com")
    account_id = (await api.account(headers))["accountId"]
    bodies: list[Any] = [
        _order(account_id, qty=0.01),
        _order(account_id, qty="1e-2"),
        _order(account_id, qty="-1"),
        _order(account_id, side="Long"),
        _order(account_id, orderType="Stop"),
        _order(account_id, triggerDirection=3),
        _order(account_id, reduceOnly="maybe"),
        _order(account_id, orderLinkId="x" * 37),
        _order(account_id, accountId=None),
        {"symbol": "BTCUSDT"},
        [],
        "order",
        None,
    ]
    for body in bodies:
        response = await api.client.post("/api/v1/orders", json=body, headers=headers)
        assert response.status_code == 400, body
        assert set((await _json(response))["error"]) == {"code", "message"}
    for raw, content_type in ((b"{not json", "application/json"), (b"qty=1", "application/x-www-form-urlencoded")):
        response = await api.client.post("/api/v1/orders", data=raw, headers={**headers, "Content-Type": content_type})
        assert response.status_code in (400, 415)
        assert "error" in await _json(response)
    huge = await api.client.post(
        "/api/v1/orders", json=_order(account_id, orderLinkId="a", note="x" * 300_000), headers=headers
    )
    assert huge.status_code == 413
    assert (await _json(huge))["error"]["code"] == "PAYLOAD_TOO_LARGE"


async def test_market_data_routes(api: Api) -> None:
    instruments = await _json(await api.client.get("/api/v1/instruments?category=linear"))
    assert {i["symbol"] for i in instruments["list"]} >= {"BTCUSDT", "ETHUSDT"}
    assert all(i["category"] == "linear" for i in instruments["list"])
    assert (await api.client.get("/api/v1/instruments?category=options")).status_code == 400
    waiting = await api.client.get("/api/v1/tickers/BTCUSDT")
    assert waiting.status_code == 503
    assert (await api.client.get("/api/v1/tickers/SOLUSDT")).status_code == 404
    assert (await api.client.get("/api/v1/tickers/btc")).status_code == 404
    await api.tick(last="30000.0")
    ticker = await _json(await api.client.get("/api/v1/tickers/BTCUSDT"))
    assert ticker["lastPrice"] == "30000"
    assert ticker["bid1Price"] == "29999.9"

    t0 = 1_700_000_040_000
    async with api.container.persistence.unit_of_work() as uow:
        await uow.candles.upsert(
            [
                Candle(
                    "BTCUSDT",
                    t0 + i * 60_000,
                    *(to_decimal(p) for p in ("30000", "30010", "29990", "30005")),
                    volume=to_decimal("1.5"),
                )
                for i in range(3)
            ]
        )
        await uow.commit()
    candles = await _json(await api.client.get(f"/api/v1/candles?symbol=BTCUSDT&start={t0}&end={t0 + 120_000}"))
    assert [c["start"] for c in candles["list"]] == [t0, t0 + 60_000]
    assert candles["list"][0] == {
        "start": t0,
        "end": t0 + 59_999,
        "interval": "1m",
        "open": "30000",
        "high": "30010",
        "low": "29990",
        "close": "30005",
        "volume": "1.5",
        "turnover": "",
        "confirm": True,
    }
    for query in (
        "symbol=BTCUSDT&start=10&end=5",
        "symbol=BTCUSDT&start=0&end=99999999999",
        "symbol=BTCUSDT",
        "symbol=BTCUSDT&start=x&end=1",
        "symbol=BTCUSDT&start=0&end=60000&interval=2m",
    ):
        assert (await api.client.get(f"/api/v1/candles?{query}")).status_code == 400, query
    assert (await api.client.get("/api/v1/candles?symbol=DOGEUSDT&start=0&end=60000")).status_code == 422


async def test_positions_trading_stop_leverage_executions_and_ledger(api: Api) -> None:
    headers = await api.user("a@example.com")
    account_id = (await api.account(headers))["accountId"]
    await api.tick(last="30000.0")
    no_position = await api.client.post(
        "/api/v1/positions/trading-stop",
        json={"accountId": account_id, "symbol": "BTCUSDT", "stopLoss": "29000.0"},
        headers=headers,
    )
    assert no_position.status_code == 422
    leverage = await api.client.post(
        "/api/v1/positions/leverage",
        json={"accountId": account_id, "symbol": "BTCUSDT", "leverage": "5"},
        headers=headers,
    )
    assert leverage.status_code == 202
    too_much = await api.client.post(
        "/api/v1/positions/leverage",
        json={"accountId": account_id, "symbol": "BTCUSDT", "leverage": "500"},
        headers=headers,
    )
    assert (await _json(too_much))["error"]["code"] == "LEVERAGE_OUT_OF_RANGE"
    await api.drain()
    await api.client.post("/api/v1/orders", json=_order(account_id), headers=headers)
    await api.drain()
    positions = await _json(await api.client.get(f"/api/v1/positions?accountId={account_id}", headers=headers))
    [position] = positions["list"]
    assert (position["side"], position["size"], position["leverage"], position["markPrice"]) == (
        "Buy",
        "0.01",
        "5",
        "30000",
    )
    wrong_side = await api.client.post(
        "/api/v1/positions/trading-stop",
        json={"accountId": account_id, "symbol": "BTCUSDT", "stopLoss": "31000.0"},
        headers=headers,
    )
    assert (await _json(wrong_side))["error"]["code"] == "INVALID_TP_SL"
    stop = await api.client.post(
        "/api/v1/positions/trading-stop",
        json={"accountId": account_id, "symbol": "BTCUSDT", "stopLoss": "29000.0", "takeProfit": "32000.0"},
        headers=headers,
    )
    assert stop.status_code == 202
    await api.drain()
    positions = await _json(await api.client.get(f"/api/v1/positions?accountId={account_id}", headers=headers))
    assert (positions["list"][0]["stopLoss"], positions["list"][0]["takeProfit"]) == ("29000", "32000")
    executions = await _json(await api.client.get(f"/api/v1/executions?accountId={account_id}", headers=headers))
    assert [e["execQty"] for e in executions["list"]] == ["0.01"]
    ledger = await _json(await api.client.get(f"/api/v1/ledger?accountId={account_id}&limit=1", headers=headers))
    assert [e["type"] for e in ledger["list"]] == ["Fee"]


async def test_journal_entries_images_and_statistics(api: Api) -> None:
    headers = await api.user("a@example.com")
    account_id = (await api.account(headers))["accountId"]
    created = await api.client.post(
        "/api/v1/journal",
        json={
            "title": "Breakout",
            "notes": "waited for the retest",
            "tags": ["BTC", "breakout"],
            "accountId": account_id,
        },
        headers=headers,
    )
    assert created.status_code == 201
    entry = await _json(created)
    assert entry["tags"] == ["btc", "breakout"]
    entry_id = entry["entryId"]
    patched = await _json(
        await api.client.patch(f"/api/v1/journal/{entry_id}", json={"notes": "took profit early"}, headers=headers)
    )
    assert (patched["title"], patched["notes"]) == ("Breakout", "took profit early")
    listed = await _json(await api.client.get("/api/v1/journal?tag=breakout", headers=headers))
    assert [e["entryId"] for e in listed["list"]] == [entry_id]

    upload = await api.client.post(
        f"/api/v1/journal/{entry_id}/attachments",
        files={"file": _file(PNG, "chart.png")},
        headers=headers,
    )
    assert upload.status_code == 201, await upload.get_data()
    attachment = await _json(upload)
    assert (attachment["contentType"], attachment["size"], attachment["filename"]) == (
        "image/png",
        len(PNG),
        "chart.png",
    )
    image = await api.client.get(attachment["url"], headers=headers)
    assert image.status_code == 200
    assert image.headers["Content-Type"] == "image/png"
    assert await image.get_data() == PNG

    text = await api.client.post(
        f"/api/v1/journal/{entry_id}/attachments", files={"file": _file(b"GIF8 not really", "x.gif")}, headers=headers
    )
    assert text.status_code == 415
    assert (await _json(text))["error"]["code"] == "UNSUPPORTED_IMAGE_TYPE"
    big = await api.client.post(
        f"/api/v1/journal/{entry_id}/attachments",
        files={"file": _file(PNG + b"\x00" * (5 * 1024 * 1024), "big.png")},
        headers=headers,
    )
    assert big.status_code == 413
    not_multipart = await api.client.post(f"/api/v1/journal/{entry_id}/attachments", data=PNG, headers=headers)
    assert not_multipart.status_code == 400

    stats = await _json(await api.client.get(f"/api/v1/journal/stats?accountId={account_id}", headers=headers))
    assert (stats["trades"], stats["winRate"], stats["equityCurve"][0]["equity"]) == (0, "", "10000")

    blobs = api.container.storage.blob_store()
    assert len(blobs.objects) == 1
    assert (await api.client.delete(f"/api/v1/journal/{entry_id}", headers=headers)).status_code == 204
    assert blobs.objects == {}
    assert (await api.client.get(f"/api/v1/journal/{entry_id}", headers=headers)).status_code == 404


def _file(data: bytes, name: str) -> Any:
    from io import BytesIO

    from quart.datastructures import FileStorage

    return FileStorage(BytesIO(data), filename=name, content_type="application/octet-stream")


async def test_health_readiness_metrics_and_request_ids(api: Api) -> None:
    alive = await api.client.get("/healthz", headers={"X-Request-ID": "trace-123"})
    assert await _json(alive) == {"status": "ok"}
    assert alive.headers["X-Request-ID"] == "trace-123"
    generated = await api.client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"})
    assert generated.headers["X-Request-ID"] != "bad id with spaces"
    assert len(generated.headers["X-Request-ID"]) == 32
    assert (await _json(await api.client.get("/readyz")))["checks"] == {"database": "ok", "redis": "not configured"}
    api.container.persistence.memory_database().available = False
    down = await api.client.get("/readyz")
    assert down.status_code == 503
    assert (await _json(down))["checks"]["database"].startswith("unavailable")
    failing = await api.client.get("/api/v1/instruments")
    assert failing.status_code == 200, "routes that need no database still answer"
    api.container.persistence.memory_database().available = True
    metrics = (await (await api.client.get("/metrics")).get_data()).decode()
    assert "tradesim_open_websockets 0.0" in metrics
    assert 'tradesim_http_request_duration_seconds_count{method="GET",route="/healthz",status="200"} 2.0' in metrics


async def test_metrics_show_the_garbage_collectors_pauses(api: Api) -> None:
    def full_collections(text: str) -> float:
        line = next(x for x in text.splitlines() if x.startswith('tradesim_gc_pause_seconds_count{generation="2"}'))
        return float(line.rsplit(" ", 1)[1])

    before = full_collections((await (await api.client.get("/metrics")).get_data()).decode())
    gc.collect()
    after = (await (await api.client.get("/metrics")).get_data()).decode()
    assert full_collections(after) >= before + 1
    assert 'tradesim_gc_pause_seconds_bucket{generation="2",le="+Inf"}' in after


async def test_a_dependency_outage_is_a_503(api: Api) -> None:
    headers = await api.user("a@example.com")
    api.container.persistence.memory_database().available = False
    response = await api.client.get("/api/v1/accounts", headers=headers)
    assert response.status_code == 503
    assert (await _json(response))["error"]["code"] == "DEPENDENCY_UNAVAILABLE"


async def test_unknown_routes_and_methods_are_json(api: Api) -> None:
    missing = await api.client.get("/api/v1/nothing")
    assert (missing.status_code, (await _json(missing))["error"]["code"]) == (404, "NOT_FOUND")
    wrong = await api.client.put("/api/v1/accounts")
    assert wrong.status_code == 405
    assert (await _json(wrong))["error"]["code"] == "METHOD_NOT_ALLOWED"
    assert (await api.client.get("/api/v1/orders/" + "x" * 65)).status_code == 404


async def test_the_openapi_document_describes_every_route_and_error(api: Api) -> None:
    spec = await _json(await api.client.get("/openapi.json"))
    routes = {
        (re.sub(r"<(?:[^:>]*:)?([^>]+)>", r"{\1}", rule.rule), method.lower())
        for rule in api.app.url_map.iter_rules()
        for method in rule.methods or ()
        if method not in ("HEAD", "OPTIONS")
        and rule.rule not in ("/openapi.json", "/docs", "/redocs")
        and not rule.endpoint.startswith("web.")
        # Bybit's own API (`/v5`, docs/bybit-api.md) is Bybit's to document, not tradesim's OpenAPI.
        and not rule.rule.startswith("/v5/")
    }
    documented = {(path, method) for path, operations in spec["paths"].items() for method in operations}
    assert routes == documented
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            assert 400 in {int(s) for s in operation["responses"]}, (method, path)
            for status, response in operation["responses"].items():
                if int(status) >= 400 and path != "/readyz":  # not ready is a Readiness body
                    assert response["content"]["application/json"]["schema"] == {
                        "$ref": "#/components/schemas/ErrorBody"
                    }
    schemas = spec["components"]["schemas"]
    refs = {ref.rsplit("/", 1)[-1] for ref in _refs(spec)}
    assert refs <= set(schemas), refs - set(schemas)
    assert spec["paths"]["/api/v1/orders"]["post"]["requestBody"]["content"]["application/json"]["schema"]


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for value in node.values() for r in _refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in _refs(value)]
    return []
