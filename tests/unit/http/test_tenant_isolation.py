"""A user sees only their own things: anything of another user's is a 404 and changes nothing."""

from __future__ import annotations

from io import BytesIO
from typing import Any

import attrs
import pytest
from quart.datastructures import FileStorage

from tests.unit.http.conftest import Api

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


@attrs.frozen
class Alice:
    headers: dict[str, str]
    account_id: str
    order_id: str
    entry_id: str
    attachment_id: str


async def _alice(api: Api) -> Alice:
    headers = await api.user("alice@example.com")
    account_id = (await api.account(headers))["accountId"]
    await api.tick(last="30000.0")
    base = {"accountId": account_id, "symbol": "BTCUSDT", "side": "Buy", "qty": "0.010"}
    await api.client.post("/api/v1/orders", json={**base, "orderType": "Market"}, headers=headers)
    resting = await api.client.post(
        "/api/v1/orders", json={**base, "orderType": "Limit", "price": "29000.0"}, headers=headers
    )
    await api.drain()
    entry = await (await api.client.post("/api/v1/journal", json={"title": "mine"}, headers=headers)).get_json()
    upload = await api.client.post(
        f"/api/v1/journal/{entry['entryId']}/attachments",
        files={"file": FileStorage(BytesIO(PNG), filename="a.png")},
        headers=headers,
    )
    return Alice(
        headers=headers,
        account_id=account_id,
        order_id=(await resting.get_json())["orderId"],
        entry_id=entry["entryId"],
        attachment_id=(await upload.get_json())["attachmentId"],
    )


def _requests(a: Alice) -> list[tuple[str, str, dict[str, Any] | None]]:
    acc, order, entry, att = a.account_id, a.order_id, a.entry_id, a.attachment_id
    place = {"accountId": acc, "symbol": "BTCUSDT", "side": "Buy", "orderType": "Market", "qty": "0.010"}
    return [
        ("GET", f"/api/v1/accounts/{acc}", None),
        ("GET", f"/api/v1/orders?accountId={acc}", None),
        ("GET", f"/api/v1/orders/{order}", None),
        ("PATCH", f"/api/v1/orders/{order}", {"price": "29500.0"}),
        ("DELETE", f"/api/v1/orders/{order}", None),
        ("POST", "/api/v1/orders", place),
        ("POST", "/api/v1/orders", {**place, "orderType": "Limit", "price": "1000.0", "orderLinkId": "x"}),
        ("GET", f"/api/v1/positions?accountId={acc}", None),
        ("POST", "/api/v1/positions/trading-stop", {"accountId": acc, "symbol": "BTCUSDT", "stopLoss": "29000.0"}),
        ("POST", "/api/v1/positions/leverage", {"accountId": acc, "symbol": "BTCUSDT", "leverage": "2"}),
        ("GET", f"/api/v1/executions?accountId={acc}", None),
        ("GET", f"/api/v1/ledger?accountId={acc}", None),
        ("GET", f"/api/v1/journal/{entry}", None),
        ("PATCH", f"/api/v1/journal/{entry}", {"title": "stolen"}),
        ("DELETE", f"/api/v1/journal/{entry}", None),
        ("POST", f"/api/v1/journal/{entry}/attachments", {"file": PNG}),
        ("GET", f"/api/v1/journal/{entry}/attachments/{att}", None),
        ("DELETE", f"/api/v1/journal/{entry}/attachments/{att}", None),
        ("GET", f"/api/v1/journal/stats?accountId={acc}", None),
        ("POST", "/api/v1/journal", {"title": "t", "accountId": acc}),
        ("POST", "/api/v1/journal", {"title": "t", "orderId": order}),
    ]


async def _send(api: Api, method: str, path: str, body: dict[str, Any] | None, headers: dict[str, str]) -> Any:
    if body is not None and "file" in body:
        files = {"file": FileStorage(BytesIO(body["file"]), filename="b.png")}
        return await api.client.post(path, files=files, headers=headers)
    return await api.client.open(path, method=method, json=body, headers=headers)


def _state(api: Api) -> tuple[object, ...]:
    tables = api.container.persistence.memory_database().tables
    blobs = dict(api.container.storage.blob_store().objects)
    return (attrs.asdict(tables, recurse=False), blobs, api.container.messaging.order_queue().pending())


async def test_another_users_ids_are_404_and_change_nothing(api: Api) -> None:
    alice = await _alice(api)
    bob = await api.user("bob@example.com")
    await api.account(bob)
    before = _state(api)
    for method, path, body in _requests(alice):
        response = await _send(api, method, path, body, bob)
        assert response.status_code == 404, (method, path, response.status_code, await response.get_data())
        assert (await response.get_json())["error"]["code"] == "NOT_FOUND"
        assert _state(api) == before, (method, path)
    # The owner still gets every one of them.
    owner = await api.client.get(f"/api/v1/orders/{alice.order_id}", headers=alice.headers)
    assert owner.status_code == 200


async def test_lists_show_only_the_callers_records(api: Api) -> None:
    alice = await _alice(api)
    bob = await api.user("bob@example.com")
    assert (await (await api.client.get("/api/v1/accounts", headers=bob)).get_json())["list"] == []
    assert (await (await api.client.get("/api/v1/journal", headers=bob)).get_json())["list"] == []
    listed = await (await api.client.get("/api/v1/accounts", headers=alice.headers)).get_json()
    assert [a["accountId"] for a in listed["list"]] == [alice.account_id]


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nope"}])
async def test_every_private_route_needs_a_valid_token(api: Api, headers: dict[str, str]) -> None:
    alice = await _alice(api)
    before = _state(api)
    replay_routes = [
        ("GET", "/api/v1/replays", None),
        ("POST", "/api/v1/replays", {"symbol": "BTCUSDT", "start": 0, "speed": "1"}),
        ("GET", "/api/v1/replays/some-replay", None),
        ("POST", "/api/v1/replays/some-replay/control", {"action": "play"}),
    ]
    lists = [("GET", "/api/v1/accounts", None), ("GET", "/api/v1/journal", None)]
    for method, path, body in [*_requests(alice), *lists, *replay_routes]:
        response = await _send(api, method, path, body, headers)
        assert response.status_code == 401, (method, path)
    assert _state(api) == before
