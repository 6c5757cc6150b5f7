"""Hostile bodies against every /api/v1 route that takes one (hypothesis): deep nesting, unknown fields,
trailing newlines, huge strings, any JSON at all, bytes that are not JSON. Whatever comes, the answer is
a refusal or a success, never a 5xx, and always our error shape."""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.candles import walk
from tests.unit.http.conftest import T0, Api, api_container, running_api, store_history
from tradesim.adapters.memory.clock import FixedClock
from tradesim.entrypoints.http.app import ApiOptions, create_app
from tradesim.entrypoints.roles import ContainerOptions

CASES_PER_ROUTE = int(os.environ.get("HOSTILE_CASES", "100"))
JSON_HEADERS = {"Content-Type": "application/json"}


def _routes() -> list[tuple[str, str]]:
    """(method, path) of every /api/v1 operation that takes a body, read from the OpenAPI document."""
    container = api_container(None)
    app = create_app(container)
    container.unwire()
    spec = app.extensions["QUART_SCHEMA"].openapi_provider.schema()
    return [
        (method.upper(), path)
        for path, operations in spec["paths"].items()
        if path.startswith("/api/v1")
        for method, operation in operations.items()
        if method in ("post", "put", "patch", "delete")
    ]


_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30)
_json = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)
_names = st.sampled_from(
    [
        "accountId",
        "symbol",
        "side",
        "orderType",
        "qty",
        "price",
        "name",
        "title",
        "email",
        "password",
        "speed",
        "start",
        "action",
        "takeProfit",
        "stopLoss",
        "orderLinkId",
        "refreshToken",
        "tags",
        "notes",
        "stoploss",
    ]
)
_hostile_values = st.one_of(
    _json,
    st.sampled_from(["1\n", "0.010\n", "BTCUSDT\n", "a\n", "\x00", "1e999", "-1", "NaN", "\u202e", "../../x"]),
    st.builds(lambda n: "9" * n, st.integers(30, 400)),
    st.builds(lambda n: "x" * n, st.integers(1_000, 300_000)),
)


_bodies = st.one_of(
    st.dictionaries(_names, _hostile_values, max_size=6).map(json.dumps),
    st.integers(33, 5_000).map(lambda n: "[" * n + "]" * n),
    st.integers(33, 5_000).map(lambda n: '{"a":' * n + "1" + "}" * n),
    st.integers(1, 3_000).map(lambda n: '{"qty": ' + "[" * n),
    _json.map(json.dumps),
    st.binary(max_size=64).map(lambda b: b.decode("latin-1")),
)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """An api with a user, an account, an order, a journal entry and a replay, kept for every case."""
    tmp_path: Path = tmp_path_factory.mktemp("hostile")
    runner = asyncio.Runner()
    clock = FixedClock(T0)
    container = api_container(tmp_path, clock=clock, options=ContainerOptions(replay_dispatch="runner"))
    runner.run(store_history(container, walk("BTCUSDT", 1_704_067_200_000, 1440)))
    started = running_api(container, clock, ApiOptions(rate_limits=False))
    api: Api = runner.run(started.__aenter__())

    async def seed() -> dict[str, str]:
        headers = await api.user("hostile@example.com")
        account = await api.account(headers)
        order = await api.client.post(
            "/api/v1/orders",
            json={
                "accountId": account["accountId"],
                "symbol": "BTCUSDT",
                "side": "Buy",
                "orderType": "Limit",
                "qty": "0.010",
                "price": "20000.0",
            },
            headers=headers,
        )
        entry = await api.client.post("/api/v1/journal", json={"title": "t"}, headers=headers)
        replay = await api.client.post(
            "/api/v1/replays", json={"symbol": "BTCUSDT", "start": 1_704_067_200_000, "speed": "1"}, headers=headers
        )
        return {
            **headers,
            "accountId": account["accountId"],
            "orderId": (await order.get_json())["orderId"],
            "entryId": (await entry.get_json())["entryId"],
            "replayId": (await replay.get_json())["replayId"],
        }

    ids = runner.run(seed())
    try:
        yield {"api": api, "runner": runner, "ids": ids}
    finally:
        runner.run(started.__aexit__(None, None, None))
        runner.close()


def _concrete(path: str, ids: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: ids.get(m.group(1), "some-id"), path)


@pytest.mark.parametrize(("method", "path"), _routes())
def test_hostile_bodies_never_get_a_server_error(method: str, path: str, world: dict[str, Any]) -> None:
    api: Api = world["api"]
    ids: dict[str, str] = world["ids"]
    url = _concrete(path, ids)
    headers = {"Authorization": ids["Authorization"], **JSON_HEADERS}

    @given(body=_bodies)
    @settings(
        max_examples=CASES_PER_ROUTE,
        deadline=None,
        database=None,
        derandomize=not os.environ.get("FUZZ_RANDOM"),
        suppress_health_check=list(HealthCheck),
    )
    def run(body: str) -> None:
        response = world["runner"].run(api.client.open(url, method=method, data=body.encode(), headers=headers))
        assert response.status_code < 500, (method, url, body[:200], response.status_code)
        if response.status_code >= 400:
            error = world["runner"].run(response.get_json())
            assert set(error["error"]) == {"code", "message"}, error

    run()
