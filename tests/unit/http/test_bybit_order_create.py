"""POST /v5/order/create answered by `BybitOrderCreate` says exactly what the full Quart path says.

The same requests go, in the same order, to two apps over identical containers (fixed clock,
counted ids): one as the process serves it, one with the order/create POST sent through the
framework. Every answer must be the same: status, headers and body, byte for byte; and so must the
latency metric's counts by route and status.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from werkzeug.datastructures import Headers

from tradesim.entrypoints.http.bybit.order_create import BybitOrderCreate

from .bybit_client import BybitClient, new_key
from .conftest import T0, Api
from .layers import serving

Answer = tuple[int, list[tuple[str, str]], bytes]
PATH = "/v5/order/create"


def _request(bot: BybitClient, body: bytes | dict[str, Any], **options: Any) -> tuple[bytes, list[tuple[str, str]]]:
    """The body and headers of a signed POST; `options` change what is signed or sent."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = bot.headers(raw.decode("latin-1"), **options.get("signing", {}))
    drop = options.get("drop", ())
    sent = {k: v for k, v in headers.items() if k not in drop} | options.get("headers", {})
    return raw, [*sent.items(), *options.get("again", {}).items()]


async def conversation(api: Api) -> tuple[list[Answer], dict[tuple[str, str], float]]:
    """Orders accepted, repeated and refused in every way the route knows, each answer as sent."""
    alice = await api.user("alice@example.com")
    account = (await api.account(alice, balance="100000"))["accountId"]
    bot = await new_key(api, alice, account)
    reader = await new_key(api, alice, account, read_only=True)
    hammer = await new_key(api, alice, account)
    await api.tick(last="30000.0")
    await api.tick(symbol="ETHUSDT", last="2000.0")
    limit = {"category": "linear", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Limit", "price": "20000"}
    limit |= {"qty": "0.010", "orderLinkId": "first"}
    market = {"category": "linear", "symbol": "ETHUSDT", "side": "Sell", "orderType": "Market", "qty": "0.01"}
    unknown = BybitClient(api, "no-such-key", "no-such-secret")
    requests: list[tuple[bytes, list[tuple[str, str]]]] = [
        _request(bot, limit),
        _request(bot, limit),  # a repeated orderLinkId
        _request(bot, market),
        _request(bot, market | {"orderLinkId": "second"}, headers={"X-Request-ID": "client-chosen.1"}),
        _request(bot, market, headers={"X-Request-ID": "not safe!"}),
        _request(bot, market | {"qty": 0.02}),  # a JSON number
        _request(bot, market | {"reduceOnly": True, "qty": "0.01"}),
        _request(bot, market, signing={"secret": "wrong"}),  # 10004
        _request(bot, market, signing={"timestamp": T0 - 60_000}),  # 10002
        _request(bot, market, signing={"timestamp": T0 + 5_000}),
        _request(unknown, market),  # 10003
        _request(reader, market),  # 10005
        _request(bot, market | {"symbol": ""}),  # 10001: required
        _request(bot, market | {"qty": "a lot"}),
        _request(bot, market | {"category": "inverse"}),
        _request(bot, market | {"positionIdx": 1}),
        _request(bot, market | {"orderLinkId": "x" * 40}),
        _request(bot, market | {"side": "Up"}),
        _request(bot, b"{not json"),
        _request(bot, b"[1, 2]"),
        _request(bot, b""),
        _request(bot, market | {"qty": "0.0000001"}),  # breaks the instrument's step
        _request(bot, market | {"symbol": "NOPEUSDT"}),
        _request(bot, market | {"symbol": "BTCUSDT", "qty": "50"}),  # accepted: the engine checks the margin
        _request(bot, market | {"category": "spot", "side": "Buy"}),  # 0.01 USDT buys less than a step
        _request(bot, market, drop=("X-BAPI-API-KEY",)),  # no key: the framework's
        _request(bot, market, again={"X-BAPI-SIGN": "0" * 64}),  # a header twice: the framework's
        _request(bot, b'{"symbol": "\xff"}'),  # not UTF-8: the framework's
        _request(bot, market, headers={"Content-Type": "text/plain"}),  # the framework's
        _request(bot, b'{"notes": "' + b"x" * 300_000 + b'"}'),  # too large: the framework's
    ]
    # The key's limit: 50 a second in the order group, then 10006 (the fixed clock stays in one window).
    requests += [_request(hammer, market | {"qty": "a lot"}) for _ in range(51)]
    answers = []
    for body, headers in requests:
        response = await api.client.post(PATH, data=body, headers=Headers(headers))
        answer_headers = sorted((k.lower(), v) for k, v in response.headers.items())
        if dict(headers).get("X-Request-ID", "not safe!") == "not safe!":
            # A request id the server made: the same shape, not the same digits.
            assert len(response.headers["X-Request-ID"]) == 32
            answer_headers = [(k, "(made)" if k == "x-request-id" else v) for k, v in answer_headers]
        answers.append((response.status_code, answer_headers, await response.get_data()))
    latency = api.container.api.metrics().request_latency
    counts = {
        (sample.labels["route"], sample.labels["status"]): sample.value
        for metric in latency.collect()
        for sample in metric.samples
        if sample.name.endswith("_count")
    }
    return answers, counts


async def test_the_order_create_answers_every_request_as_the_full_path_does(tmp_path: Path) -> None:
    setup = 6  # a user registered and logged in, an account, three keys: not order/create POSTs
    async with serving(tmp_path / "fast", BybitOrderCreate, fast=True) as (api, behind):
        fast, fast_counts = await conversation(api)
        # Only what the framework refuses before the route's own checks goes on to it.
        assert behind.calls == setup + 5
    async with serving(tmp_path / "full", BybitOrderCreate, fast=False) as (api, behind):
        full, full_counts = await conversation(api)
        assert behind.calls == setup + len(full)
    codes = [json.loads(body).get("retCode") for _, _, body in fast[:25]]
    assert codes[:12] == [0, 0, 0, 0, 0, 0, 0, 10004, 10002, 10002, 10003, 10005]
    assert set(codes[12:21]) == {10001}
    assert codes[21:25] == [10001, 10001, 0, 10001]
    assert [json.loads(body)["retCode"] for _, _, body in fast[-2:]] == [10001, 10006]
    assert {status for status, _, _ in fast} == {200}
    for n, (mine, theirs) in enumerate(zip(fast, full, strict=True)):
        assert mine == theirs, f"request {n}"
    assert fast_counts == full_counts
