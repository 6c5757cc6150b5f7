"""The standing abuse suite, in-process: each finding of issue 20 reproduced as a hostile or careless
client would, and now refused or bounded. The real-process rows (streamed uploads, memory) are in
tests/integration/test_abuse.py."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dependency_injector import providers
from prometheus_client.core import GaugeMetricFamily, Metric
from quart.datastructures import FileStorage
from quart.testing.connections import WebsocketDisconnectError
from werkzeug.exceptions import RequestEntityTooLarge

from tests.support.candles import walk
from tests.unit.http.conftest import SECRET, T0, Api, api_container, running_api
from tests.unit.http.test_replays import T1, Replays, replays  # noqa: F401 (the fixture)
from tests.waiting import until
from tradesim.adapters.memory.clock import FixedClock
from tradesim.adapters.security.pool import BoundedPool
from tradesim.entrypoints.http.app import MAX_JSON_BODY, ApiOptions
from tradesim.entrypoints.http.bodies import BoundedBody
from tradesim.entrypoints.roles import ContainerOptions
from tradesim.entrypoints.settings import Settings
from tradesim.ports.errors import Overloaded
from tradesim.ports.security import TokenClaims


async def test_made_up_methods_do_not_grow_the_metrics(api: Api) -> None:
    # H1: the method went verbatim into a label, so every made-up method was a new series.
    for n in range(50):
        await api.client.open("/healthz", method=f"X{n:04d}")
    text = (await (await api.client.get("/metrics")).get_data()).decode()
    series = [line for line in text.splitlines() if line.startswith("tradesim_http_request_duration_seconds_count")]
    assert not any('method="X0' in line for line in series), series
    assert len(series) <= 3, series


class _HeldCollector:
    """A collector that holds the scrape until it is released (a slow scrape, deterministically)."""

    def __init__(self) -> None:
        self.collecting = threading.Event()
        self.release = threading.Event()
        self.released_in_time = False

    def describe(self) -> list[Metric]:
        return []  # so that registering does not collect (and wait)

    def collect(self) -> Iterator[Metric]:
        self.collecting.set()
        # Released by the test once /healthz answered; on the event loop it never could be.
        self.released_in_time = self.release.wait(5)
        yield GaugeMetricFamily("tradesim_test_held", "held scrape", value=1)


async def test_a_slow_scrape_does_not_block_other_requests(api: Api) -> None:
    # H1: the exposition ran on the event loop, so /healthz waited for the whole scrape.
    held = _HeldCollector()
    api.container.api.metrics().registry.register(held)
    scrape = asyncio.create_task(api.client.get("/metrics"))
    try:
        while not held.collecting.is_set():
            await asyncio.sleep(0.01)
            assert not scrape.done(), await scrape
        alive = await api.client.get("/healthz")
        assert alive.status_code == 200, "answered while the scrape is held"
    finally:
        held.release.set()
    assert b"tradesim_test_held 1.0" in await (await scrape).get_data()
    assert held.released_in_time, "the scrape held the event loop: /healthz could not answer meanwhile"


async def test_metrics_behind_a_token_and_on_their_own_port(tmp_path: Path) -> None:
    # H1: operators expect /metrics away from the public port or behind a token.
    settings = Settings(
        jwt_secret=SECRET,
        data_dir=tmp_path,
        database_url="memory://",
        object_store_url=(tmp_path / "objects").resolve().as_uri(),
        metrics_port=9100,
        metrics_token="scrape-me",
    )
    clock = FixedClock(T0)
    async with running_api(api_container(tmp_path, clock=clock, settings=settings), clock, ApiOptions()) as api:
        on_metrics_port = {"server": ("127.0.0.1", 9100)}
        token = {"Authorization": "Bearer scrape-me"}
        assert (await api.client.get("/metrics", headers=token)).status_code == 404, "not on the api's port"
        assert (await api.client.get("/metrics", scope_base=on_metrics_port)).status_code == 401
        wrong = await api.client.get("/metrics", headers={"Authorization": "Bearer nope"}, scope_base=on_metrics_port)
        assert wrong.status_code == 401
        scraped = await api.client.get("/metrics", headers=token, scope_base=on_metrics_port)
        assert scraped.status_code == 200
        assert (await api.client.get("/healthz", scope_base=on_metrics_port)).status_code == 404
        assert (await api.client.get("/healthz")).status_code == 200


async def test_a_body_read_in_chunks_is_refused_once_it_passes_the_cap() -> None:
    # H2: the multipart parser iterates the body, which emptied what Quart counted against its cap, so
    # a body without a Content-Length was taken whole.
    body = BoundedBody(None, 1000)
    chunks: list[bytes] = []

    async def read() -> None:
        async for chunk in body:
            chunks.append(chunk)

    reader = asyncio.create_task(read())
    for _ in range(30):
        body.append(b"x" * 100)
        await asyncio.sleep(0)
    body.set_complete()
    with pytest.raises(RequestEntityTooLarge):
        await reader
    assert sum(map(len, chunks)) <= 1000


async def test_a_lower_cap_counts_what_already_came() -> None:
    body = BoundedBody(None, 10_000)
    body.append(b"x" * 600)
    body.limit(500, None)
    with pytest.raises(RequestEntityTooLarge):
        await body
    declared = BoundedBody(600, 10_000)
    declared.limit(500, 600)
    with pytest.raises(RequestEntityTooLarge):
        await declared


async def test_an_oversized_json_body_is_refused_however_it_is_framed(api: Api) -> None:
    headers = await api.user("big@example.com")
    big = {"name": "x" * (MAX_JSON_BODY + 10)}
    response = await api.client.post("/api/v1/accounts", json=big, headers=headers)
    assert response.status_code == 413
    assert (await response.get_json())["error"]["code"] == "PAYLOAD_TOO_LARGE"


DEEP = "[" * 1000 + "]" * 1000


@pytest.mark.parametrize("path", ["/api/v1/auth/login", "/api/v1/auth/register", "/api/v1/accounts"])
async def test_deeply_nested_json_is_refused_as_malformed(api: Api, path: str) -> None:
    # M1: nesting ~1,000 deep raised RecursionError: a 500 with a traceback, on the login too.
    headers = await api.user("deep@example.com")
    for body in (DEEP, '{"email": ' + DEEP + "}"):
        response = await api.client.post(path, data=body, headers={**headers, "Content-Type": "application/json"})
        assert response.status_code == 400, await response.get_data()
        assert "nested deeper than" in (await response.get_json())["error"]["message"]


async def test_brackets_inside_strings_do_not_count_as_nesting(api: Api) -> None:
    headers = await api.user("brackets@example.com")
    response = await api.client.post("/api/v1/accounts", json={"name": "[{" * 20}, headers=headers)
    assert response.status_code == 201, await response.get_data()


async def test_a_deeply_nested_socket_message_is_answered_not_fatal(api: Api) -> None:
    # M1: on /ws it closed the socket with 1011.
    headers = await api.user("deepws@example.com")
    token = headers["Authorization"].removeprefix("Bearer ")
    async with api.client.websocket(f"/ws?token={token}") as ws:
        assert json.loads(await ws.receive())["op"] == "auth"
        await ws.send('{"op": "subscribe", "args": ' + DEEP + "}")
        answer = json.loads(await asyncio.wait_for(ws.receive(), 5))
        assert answer["success"] is False
        assert "nested deeper than" in answer["ret_msg"]
        await ws.send('{"op": "ping"}')
        assert json.loads(await asyncio.wait_for(ws.receive(), 5))["ret_msg"] == "pong"


def _from(address: str) -> dict[str, object]:
    return {"client": (address, 40000)}


async def test_nobody_locks_the_owner_out_by_failing_their_login(tmp_path: Path) -> None:
    # M2: 5 wrong passwords for an email from any address made the right password answer 429 everywhere.
    clock = FixedClock(T0)
    async with running_api(api_container(tmp_path, clock=clock), clock, ApiOptions()) as api:
        owner = {"email": "owner@example.com", "password": "correct horse"}
        assert (
            await api.client.post("/api/v1/auth/register", json=owner, scope_base=_from("10.0.0.1"))
        ).status_code == 201
        login = await api.client.post("/api/v1/auth/login", json=owner, scope_base=_from("10.0.0.1"))
        assert login.status_code == 200, "the owner's address is now known for this email"
        wrong = {**owner, "password": "wrong guess"}
        # An attacker with many addresses, each under its own limits, floods the email past its ceiling.
        statuses = [
            (
                await api.client.post("/api/v1/auth/login", json=wrong, scope_base=_from(f"10.9.{n // 4}.{n}"))
            ).status_code
            for n in range(60)
        ]
        # The ceiling is 50 a minute from addresses not known for the email; the owner's first login counted.
        assert statuses.count(401) == 49
        assert set(statuses[49:]) == {429}
        one_address = [
            (await api.client.post("/api/v1/auth/login", json=wrong, scope_base=_from("10.8.0.1"))).status_code
            for _ in range(6)
        ]
        assert one_address[-1] == 429
        again = await api.client.post("/api/v1/auth/login", json=owner, scope_base=_from("10.0.0.1"))
        assert again.status_code == 200, "the owner still logs in from their own address"


async def test_limits_allow_exactly_what_the_docs_say_in_any_minute(tmp_path: Path) -> None:
    # L13: 21 attempts a minute got through where the docs say 20 (a burst, then the refill).
    clock = FixedClock(T0)
    async with running_api(api_container(tmp_path, clock=clock), clock, ApiOptions()) as api:
        admitted = 0
        for n in range(40):
            body = {"email": f"l{n}@example.com", "password": "wrong guess"}
            response = await api.client.post("/api/v1/auth/login", json=body, scope_base=_from("10.7.0.1"))
            admitted += response.status_code != 429
            clock.advance(1_400)  # 40 attempts over 56 s: all inside one minute
        assert admitted == 20
        clock.advance(60_000)
        response = await api.client.post("/api/v1/auth/login", json={"email": "l@example.com", "password": "x" * 8})
        assert response.status_code == 401


async def test_a_user_plays_a_bounded_number_of_replays_at_once(replays: Replays) -> None:  # noqa: F811
    # M3: no cap on replay sessions: 100 playing at top speed stalled the event loop.
    headers = await replays.api.user("player@example.com")
    sessions = [(await replays.create(headers))["replayId"] for _ in range(6)]
    for replay_id in sessions[:5]:
        assert (await replays.control(headers, replay_id, "play")).status_code == 200
    refused = await replays.control(headers, sessions[5], "play")
    assert refused.status_code == 409
    error = (await refused.get_json())["error"]
    assert error["code"] == "QUOTA_EXCEEDED"
    assert "TRADESIM_MAX_REPLAYS_PER_USER" in error["message"]
    assert (await replays.control(headers, sessions[0], "play")).status_code == 200, "one already playing"
    await replays.ok(headers, sessions[0], "pause")
    assert (await replays.control(headers, sessions[5], "play")).status_code == 200, "a pause frees a place"
    other = await replays.api.user("other-player@example.com")
    mine = (await replays.create(other))["replayId"]
    assert (await replays.control(other, mine, "play")).status_code == 200, "the quota is per user"


async def test_unknown_body_fields_are_refused_by_name(api: Api) -> None:
    # M4: `"stoploss": "29000"` was silently dropped: 201 and an order without its stop-loss.
    headers = await api.user("careless@example.com")
    account = await api.account(headers)
    order = {
        "accountId": account["accountId"],
        "symbol": "BTCUSDT",
        "side": "Buy",
        "orderType": "Limit",
        "qty": "0.010",
        "price": "20000",
        "stoploss": "19000",
    }
    response = await api.client.post("/api/v1/orders", json=order, headers=headers)
    assert response.status_code == 400
    error = (await response.get_json())["error"]
    assert "'stoploss'" in error["message"]
    assert "stopLoss" in error["message"], "names the known fields"
    listed = await (
        await api.client.get(f"/api/v1/orders?accountId={account['accountId']}", headers=headers)
    ).get_json()
    assert listed["list"] == [], "nothing was placed"
    login = await api.client.post(
        "/api/v1/auth/login", json={"email": "careless@example.com", "password": "correct horse", "otp": "1"}
    )
    assert login.status_code == 400


async def test_the_openapi_document_forbids_unknown_body_fields(api: Api) -> None:
    spec = await (await api.client.get("/openapi.json")).get_json()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body is None:
                continue
            assert body["schema"]["additionalProperties"] is False, (method, path)


async def test_another_users_order_is_missing_without_naming_their_account(api: Api) -> None:
    # L1: the 404 for another user's order id named that user's account id.
    owner = await api.user("order-owner@example.com")
    account = await api.account(owner)
    order = {
        "accountId": account["accountId"],
        "symbol": "BTCUSDT",
        "side": "Buy",
        "orderType": "Limit",
        "qty": "0.010",
        "price": "20000",
    }
    placed = await (await api.client.post("/api/v1/orders", json=order, headers=owner)).get_json()
    other = await api.user("order-snoop@example.com")
    for response in (
        await api.client.get(f"/api/v1/orders/{placed['orderId']}", headers=other),
        await api.client.delete(f"/api/v1/orders/{placed['orderId']}", headers=other),
        await api.client.post("/api/v1/journal", json={"title": "t", "orderId": placed["orderId"]}, headers=other),
    ):
        assert response.status_code == 404
        message = (await response.get_json())["error"]["message"]
        assert account["accountId"] not in message
        assert placed["orderId"] in message


async def test_a_trailing_newline_is_not_part_of_any_pattern(api: Api) -> None:
    # L4: `$` matches before a final newline: qty "1\n" was accepted, orderLinkId "a\n" stored apart from "a".
    headers = await api.user("newline@example.com")
    account = await api.account(headers)
    order = {"accountId": account["accountId"], "symbol": "BTCUSDT", "side": "Buy", "orderType": "Limit"}
    for fields in (
        {"qty": "0.010\n", "price": "20000"},
        {"qty": "0.010", "price": "20000\n"},
        {"qty": "0.010", "price": "20000", "orderLinkId": "a\n"},
        {"qty": "0.010", "price": "20000", "accountId": account["accountId"] + "\n"},
        {"qty": "0.010", "price": "20000", "symbol": "BTCUSDT\n"},
    ):
        response = await api.client.post("/api/v1/orders", json={**order, **fields}, headers=headers)
        assert response.status_code == 400, (fields, await response.get_data())
    trailing = await api.client.get("/api/v1/orders/abc%0A", headers=headers)
    assert trailing.status_code == 404


async def _closed_with(ws: Any) -> int:
    """Read until the server closes; its close code."""
    with pytest.raises(WebsocketDisconnectError) as closed:
        async with asyncio.timeout(10):
            while True:
                await ws.receive()
    return int(closed.value.args[0])


async def test_a_socket_ends_when_its_token_expires(api: Api) -> None:
    # L5: an open socket kept receiving private pushes after its token expired.
    headers = await api.user("expiring@example.com")
    token = headers["Authorization"].removeprefix("Bearer ")
    async with api.client.websocket(f"/ws?token={token}") as ws:
        assert json.loads(await ws.receive())["success"] is True
        api.clock.advance(15 * 60 * 1000)
        assert await _closed_with(ws) == 4401


@pytest.mark.parametrize("revoke", ["logout", "refresh reuse"])
async def test_a_socket_ends_when_its_login_is_revoked(api: Api, revoke: str) -> None:
    # L5: ... and after logout.
    await api.register("revoked@example.com")
    tokens = await api.login("revoked@example.com")
    other = await api.login("revoked@example.com")  # another login of the same user stays
    async with (
        api.client.websocket(f"/ws?token={tokens['accessToken']}") as ws,
        api.client.websocket(f"/ws?token={other['accessToken']}") as kept,
    ):
        assert json.loads(await ws.receive())["success"] is True
        assert json.loads(await kept.receive())["success"] is True
        if revoke == "logout":
            out = await api.client.post("/api/v1/auth/logout", json={"refreshToken": tokens["refreshToken"]})
            assert out.status_code == 204
        else:
            body = {"refreshToken": tokens["refreshToken"]}
            assert (await api.client.post("/api/v1/auth/refresh", json=body)).status_code == 200
            assert (await api.client.post("/api/v1/auth/refresh", json=body)).status_code == 401
        assert await _closed_with(ws) == 4401
        await kept.send('{"op": "ping"}')
        assert json.loads(await asyncio.wait_for(kept.receive(), 5))["ret_msg"] == "pong"


async def test_open_sockets_are_bounded_per_user_and_per_address(tmp_path: Path) -> None:
    # L6: 2,000 sockets from one user were accepted.
    settings = Settings(
        jwt_secret=SECRET,
        data_dir=tmp_path,
        database_url="memory://",
        object_store_url=(tmp_path / "objects").resolve().as_uri(),
        max_websockets_per_user=2,
        max_websockets_per_address=3,
    )
    clock = FixedClock(T0)
    async with running_api(api_container(tmp_path, clock=clock, settings=settings), clock, ApiOptions()) as api:
        one = (await api.user("one@example.com"))["Authorization"].removeprefix("Bearer ")
        two = (await api.user("two@example.com"))["Authorization"].removeprefix("Bearer ")
        async with contextlib.AsyncExitStack() as stack:
            mine = [await stack.enter_async_context(api.client.websocket(f"/ws?token={one}")) for _ in range(2)]
            for ws in mine:
                assert json.loads(await ws.receive())["success"] is True
            async with api.client.websocket(f"/ws?token={one}") as third:
                refused = json.loads(await third.receive())
                assert refused["success"] is False
                assert "TRADESIM_MAX_WEBSOCKETS_PER_USER" in refused["ret_msg"]
                assert await _closed_with(third) == 4429
            theirs = await stack.enter_async_context(api.client.websocket(f"/ws?token={two}"))
            assert json.loads(await theirs.receive())["success"] is True, "another user, the address's third"
            async with api.client.websocket(f"/ws?token={two}") as fourth:
                assert await _closed_with(fourth) == 4429
            elsewhere = _from("10.1.1.1")
            async with api.client.websocket(f"/ws?token={two}", scope_base=elsewhere) as ws:
                assert json.loads(await ws.receive())["success"] is True
        async with api.client.websocket(f"/ws?token={one}") as again:
            assert json.loads(await again.receive())["success"] is True, "closed sockets gave their places back"


async def test_password_hashing_runs_on_a_bounded_pool_of_its_own() -> None:
    # L7: hashing was the login bottleneck: 60 concurrent wrong logins delayed a real login to 16 s.
    pool = BoundedPool(threads=1, queue=1, name="argon2")
    release = threading.Event()
    running = threading.Event()

    def hash_slowly() -> str:
        running.set()
        release.wait(10)
        return "hashed"

    first = asyncio.create_task(pool.run(hash_slowly))
    second = asyncio.create_task(pool.run(hash_slowly))
    await until(running.is_set)
    with pytest.raises(Overloaded):
        await pool.run(hash_slowly)
    assert await asyncio.to_thread(lambda: "the default executor is free"), "other threaded work goes on"
    release.set()
    assert await asyncio.gather(first, second) == ["hashed", "hashed"]
    assert pool.in_flight == 0
    pool.shutdown()


class _BusyHasher:
    async def hash(self, password: str) -> str:
        raise Overloaded("the server is busy (argon2); retry in a moment")

    async def verify(self, password_hash: str, password: str) -> bool:
        raise Overloaded("the server is busy (argon2); retry in a moment")


async def test_a_login_beyond_the_hashing_bound_answers_503_at_once(tmp_path: Path) -> None:
    clock = FixedClock(T0)
    container = api_container(tmp_path, clock=clock)
    container.security.password_hasher.override(providers.Object(_BusyHasher()))
    async with running_api(container, clock, ApiOptions(rate_limits=False)) as api:
        body = {"email": "busy@example.com", "password": "correct horse"}
        response = await api.client.post("/api/v1/auth/login", json=body)
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "1"
        assert (await response.get_json())["error"]["code"] == "OVERLOADED"


async def test_attachment_file_names_are_bounded_and_cleaned(api: Api) -> None:
    # L8: file names were stored as sent, 5,004 characters accepted.
    headers = await api.user("files@example.com")
    entry = await (await api.client.post("/api/v1/journal", json={"title": "t"}, headers=headers)).get_json()
    path = f"/api/v1/journal/{entry['entryId']}/attachments"
    long = await api.client.post(path, files={"file": _upload("a" * 5000 + ".png")}, headers=headers)
    assert long.status_code == 400
    assert "at most 255 characters" in (await long.get_json())["error"]["message"]
    sneaky = await api.client.post(path, files={"file": _upload("..\\..\\etc/pass\x07wd.png")}, headers=headers)
    assert sneaky.status_code == 201, await sneaky.get_data()
    assert (await sneaky.get_json())["filename"] == "passwd.png"


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _upload(name: str) -> FileStorage:
    return FileStorage(io.BytesIO(PNG), filename=name, content_type="image/png")


async def test_a_signed_token_for_nobody_creates_nothing(api: Api) -> None:
    # L9: a validly signed token for a user that does not exist created an account.
    now = api.clock.now_ms()
    claims = TokenClaims("ghost-user", "access", "jti-ghost", now, now + 60_000, "family-ghost")
    forged = {"Authorization": f"Bearer {api.container.security.token_codec().encode(claims)}"}
    for path, body in (("/api/v1/accounts", {"name": "ghost"}), ("/api/v1/journal", {"title": "ghost"})):
        response = await api.client.post(path, json=body, headers=forged)
        assert response.status_code == 401, (path, await response.get_data())
    async with api.container.persistence.unit_of_work() as uow:
        assert await uow.accounts.list_by_user("ghost-user") == []


async def test_a_signed_token_for_nobody_creates_no_replay(replays: Replays) -> None:  # noqa: F811
    now = replays.api.clock.now_ms()
    claims = TokenClaims("ghost-user", "access", "jti-ghost", now, now + 60_000, "family-ghost")
    forged = {"Authorization": f"Bearer {replays.api.container.security.token_codec().encode(claims)}"}
    response = await replays.api.client.post(
        "/api/v1/replays", json={"symbol": "BTCUSDT", "start": T1, "speed": "1"}, headers=forged
    )
    assert response.status_code == 401, await response.get_data()


async def test_a_user_holds_a_bounded_number_of_accounts(tmp_path: Path) -> None:
    # L12: 200 accounts of 1e8 USDT in 5 s.
    settings = Settings(
        jwt_secret=SECRET,
        data_dir=tmp_path,
        database_url="memory://",
        object_store_url=(tmp_path / "objects").resolve().as_uri(),
        max_accounts_per_user=3,
    )
    clock = FixedClock(T0)
    async with running_api(api_container(tmp_path, clock=clock, settings=settings), clock, ApiOptions()) as api:
        headers = await api.user("hoarder@example.com")
        for n in range(3):
            await api.account(headers, name=f"a{n}", balance="100000000")
        refused = await api.client.post("/api/v1/accounts", json={"name": "a3"}, headers=headers)
        assert refused.status_code == 409
        error = (await refused.get_json())["error"]
        assert error["code"] == "QUOTA_EXCEEDED"
        assert "TRADESIM_MAX_ACCOUNTS_PER_USER" in error["message"]
        await api.account(await api.user("someone-else@example.com"))  # the quota is per user


async def test_a_user_holds_a_bounded_number_of_api_keys_over_all_their_accounts(tmp_path: Path) -> None:
    settings = Settings(
        jwt_secret=SECRET,
        data_dir=tmp_path,
        database_url="memory://",
        object_store_url=(tmp_path / "objects").resolve().as_uri(),
        max_api_keys_per_user=2,
    )
    clock = FixedClock(T0)
    async with running_api(api_container(tmp_path, clock=clock, settings=settings), clock, ApiOptions()) as api:
        headers = await api.user("keys@example.com")
        first, second = [(await api.account(headers, name=name))["accountId"] for name in ("a", "b")]
        created = [
            await api.client.post("/api/v1/api-keys", json={"accountId": account}, headers=headers)
            for account in (first, second)
        ]
        assert [r.status_code for r in created] == [201, 201]
        refused = await api.client.post("/api/v1/api-keys", json={"accountId": first}, headers=headers)
        assert refused.status_code == 409
        error = (await refused.get_json())["error"]
        assert error["code"] == "QUOTA_EXCEEDED"
        assert "TRADESIM_MAX_API_KEYS_PER_USER" in error["message"]
        assert len((await (await api.client.get("/api/v1/api-keys", headers=headers)).get_json())["list"]) == 2
        # A revoked key frees its place.
        revoked_id = (await created[0].get_json())["apiKeyId"]
        assert (await api.client.delete(f"/api/v1/api-keys/{revoked_id}", headers=headers)).status_code == 200
        again = await api.client.post("/api/v1/api-keys", json={"accountId": first}, headers=headers)
        assert again.status_code == 201


async def test_errors_speak_our_words_not_the_libraries(api: Api) -> None:
    # L10: errors passed on the JWT library's decode errors and the validation regexes.
    garbage = await api.client.get("/api/v1/accounts", headers={"Authorization": "Bearer not.a-token"})
    message = (await garbage.get_json())["error"]["message"]
    assert garbage.status_code == 401
    assert "segments" not in message.lower()
    assert "log in again" in message
    headers = await api.user("words@example.com")
    order = {"accountId": "x y", "symbol": "btc", "side": "Buy", "orderType": "Limit", "qty": "1e3"}
    for field, words in (("qty", "decimal string"), ("accountId", "an id"), ("symbol", "a symbol")):
        body = {
            **order,
            **{k: v for k, v in {"accountId": "acc", "symbol": "BTCUSDT", "qty": "1"}.items() if k != field},
        }
        response = await api.client.post("/api/v1/orders", json=body, headers=headers)
        message = (await response.get_json())["error"]["message"]
        assert response.status_code == 400
        assert "regex" not in message
        assert "[" not in message, message
        assert words in message
        assert f"$.{field}" in message


async def test_every_response_carries_the_security_headers(api: Api) -> None:
    # L11: no X-Content-Type-Options, no Cache-Control: no-store on tokens, no CSP for the pages.
    await api.register("headers@example.com")
    login = await api.client.post(
        "/api/v1/auth/login", json={"email": "headers@example.com", "password": "correct horse"}
    )
    assert login.headers["Cache-Control"] == "no-store"
    for response in (
        login,
        await api.client.get("/healthz"),
        await api.client.get("/api/v1/nowhere"),
        await api.client.post("/api/v1/auth/login", data="{", headers={"Content-Type": "application/json"}),
        await api.client.get("/docs"),
    ):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp
        assert "frame-ancestors 'none'" in csp
    assert (await api.client.get("/api/v1/nowhere")).headers["Cache-Control"] == "no-store"


async def test_replay_sessions_are_created_at_a_bounded_rate(tmp_path: Path) -> None:
    # M3: each session opens an account; creating them is bounded per user in any hour.
    settings = Settings(
        jwt_secret=SECRET,
        data_dir=tmp_path,
        database_url="memory://",
        object_store_url=(tmp_path / "objects").resolve().as_uri(),
        replays_created_per_hour=2,
    )
    clock = FixedClock(T0)
    container = api_container(
        tmp_path, clock=clock, settings=settings, options=ContainerOptions(replay_dispatch="runner")
    )
    async with running_api(container, clock, ApiOptions()) as api:
        await api.history(walk("BTCUSDT", T1, 60))
        headers = await api.user("replays-fast@example.com")
        body = {"symbol": "BTCUSDT", "start": T1, "speed": "1"}
        statuses = [(await api.client.post("/api/v1/replays", json=body, headers=headers)) for _ in range(3)]
        assert [r.status_code for r in statuses] == [201, 201, 429]
        assert int(statuses[-1].headers["Retry-After"]) == 3600
        clock.advance(3_600_000)
        headers = {"Authorization": f"Bearer {(await api.login('replays-fast@example.com'))['accessToken']}"}
        assert (await api.client.post("/api/v1/replays", json=body, headers=headers)).status_code == 201
        await container.replay.runner().close()
