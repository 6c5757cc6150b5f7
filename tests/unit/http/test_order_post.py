"""POST /api/v1/orders answered by `OrderPost` says exactly what the full Quart path says.

The same requests go, in the same order, to two apps over identical containers (fixed clock,
counted ids): one as the process serves it, one with the order POST sent through the framework.
Every answer must be the same: status, headers and body, byte for byte.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tradesim.entrypoints.http.order_post import OrderPost

from .conftest import Api
from .layers import serving

Answer = tuple[int, list[tuple[str, str]], bytes]


async def conversation(api: Api) -> list[Answer]:
    """Orders accepted, repeated and refused in every way the route knows, each answer as sent."""
    alice = await api.user("alice@example.com")
    bob = await api.user("bob@example.com")
    account = (await api.account(alice, balance="100000"))["accountId"]
    bobs = (await api.account(bob))["accountId"]
    await api.tick(last="30000.0")
    await api.tick(symbol="ETHUSDT", last="2000.0")
    limit = {"accountId": account, "symbol": "BTCUSDT", "side": "Buy", "orderType": "Limit", "price": "20000"}
    limit |= {"qty": "0.010", "orderLinkId": "first"}
    market = {"accountId": account, "symbol": "ETHUSDT", "side": "Sell", "orderType": "Market", "qty": "0.01"}
    json_type = {"Content-Type": "application/json"}
    requests: list[tuple[dict[str, str], Any]] = [
        (alice, limit),
        (alice, limit),  # a repeated orderLinkId: the first order, 200
        (alice, market),
        (alice | {"X-Request-ID": "client-chosen.1"}, market | {"orderLinkId": "second"}),
        (alice | {"X-Request-ID": "not safe!"}, market),
        (alice, market | {"stoploss": "29000"}),  # unknown field
        (alice, market | {"qty": "a lot"}),  # not a decimal
        (alice, market | {"qty": "0.0000001"}),  # breaks the instrument's step: 422
        (alice, market | {"symbol": "NOPEUSDT"}),
        (alice, market | {"accountId": bobs}),  # someone else's account: 404
        (alice, market | {"accountId": "missing"}),
        (alice, [market]),
        (alice, market | {"side": None}),
        ({}, market),  # no token
        ({"Authorization": "Bearer not-a-token"}, market),
        ({"Authorization": "Basic abc"}, market),
        (bob, market | {"accountId": bobs, "qty": "1000"}),  # more than the wallet holds
        (alice | json_type, b"{not json"),
        (alice | json_type, b'{"accountId": "\xff"}'),  # not UTF-8
        (alice | json_type, b"[" * 40 + b"]" * 40),  # too deep
        (alice | json_type, b'{"notes": "' + b"x" * 300_000 + b'"}'),  # too large
        (alice | {"Content-Type": "text/plain"}, json.dumps(market).encode()),
    ]
    answers = []
    for headers, body in requests:
        if isinstance(body, bytes):
            response = await api.client.post("/api/v1/orders", data=body, headers=headers)
        else:
            response = await api.client.post("/api/v1/orders", json=body, headers=headers)
        answer_headers = sorted((k.lower(), v) for k, v in response.headers.items())
        if "X-Request-ID" not in headers or headers["X-Request-ID"] == "not safe!":
            # A request id the server made: the same shape, not the same digits.
            assert len(response.headers["X-Request-ID"]) == 32
            answer_headers = [(k, "(made)" if k == "x-request-id" else v) for k, v in answer_headers]
        answers.append((response.status_code, answer_headers, await response.get_data()))
    return answers


async def test_the_order_post_answers_every_request_as_the_full_path_does(tmp_path: Path) -> None:
    setup = 6  # two users registered and logged in, an account each: not order POSTs
    async with serving(tmp_path / "fast", OrderPost, fast=True) as (api, behind):
        fast = await conversation(api)
        # Orders accepted, repeated and refused by the service (10 of the 22) are answered by
        # `OrderPost`; only the requests the framework refuses go on to it.
        assert behind.calls == setup + 12
    async with serving(tmp_path / "full", OrderPost, fast=False) as (api, behind):
        full = await conversation(api)
        assert behind.calls == setup + 22
    statuses = [status for status, _, _ in fast]
    assert statuses[:12] == [201, 200, 201, 201, 201, 400, 400, 422, 422, 404, 404, 400]
    assert statuses[12:] == [400, 401, 401, 401, 422, 400, 400, 400, 413, 400]
    for n, (mine, theirs) in enumerate(zip(fast, full, strict=True)):
        assert mine == theirs, f"request {n}"
