"""A fuzz run over the `/v5` routes: hypothesis draws parameters (known names and others; strings,
numbers, booleans, nulls, lists, objects, garbage bodies), signed and unsigned. Every answer is
HTTP 200 with Bybit's envelope and an integer retCode, and never a server error (10016)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.http.bybit_client import BybitClient, trader
from tests.unit.http.conftest import T0, Api, api_container, running_api
from tradesim.adapters.memory.clock import FixedClock
from tradesim.entrypoints.http.app import ApiOptions

GETS = [
    "market/time", "market/instruments-info", "market/tickers", "market/kline", "market/orderbook",
    "market/recent-trade", "order/realtime", "order/history", "position/list", "position/closed-pnl",
    "account/wallet-balance", "account/info", "account/fee-rate", "execution/list", "user/query-api",
    "asset/coin/query-info", "no/such-route",
]  # fmt: skip
POSTS = [
    "order/create", "order/amend", "order/cancel", "order/cancel-all", "position/set-leverage",
    "position/trading-stop", "position/switch-isolated", "market/time", "no/such-route",
]  # fmt: skip
NAMES = [
    "category", "symbol", "side", "orderType", "qty", "price", "timeInForce", "orderLinkId", "orderId",
    "reduceOnly", "positionIdx", "triggerPrice", "triggerDirection", "triggerBy", "takeProfit", "stopLoss",
    "tpTriggerBy", "slTriggerBy", "limit", "cursor", "status", "interval", "start", "end", "startTime",
    "endTime", "accountType", "coin", "buyLeverage", "sellLeverage", "tradeMode", "orderStatus", "execType",
    "settleCoin", "baseCoin",
]  # fmt: skip
GOOD = ["linear", "spot", "inverse", "option", "BTCUSDT", "Buy", "Sell", "Market", "Limit", "GTC", "PostOnly",
        "0.010", "30000", "0", "-1", "1e9", "NaN", "Infinity", "1", "60", "UNIFIED", "Filled", "true"]  # fmt: skip

scalars = st.one_of(
    st.sampled_from(GOOD),
    st.text(max_size=40),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.booleans(),
    st.none(),
    st.decimals(allow_nan=False, allow_infinity=False, places=4).map(str),
)
values = st.one_of(scalars, st.lists(scalars, max_size=3), st.dictionaries(st.text(max_size=5), scalars, max_size=2))
params = st.dictionaries(st.one_of(st.sampled_from(NAMES), st.text(max_size=12)), values, max_size=8)


@st.composite
def cases(draw: st.DrawFn) -> tuple[str, str, Any, bool]:
    method = draw(st.sampled_from(["GET", "POST"]))
    path = draw(st.sampled_from(GETS if method == "GET" else POSTS))
    if method == "POST" and draw(st.booleans()) and draw(st.booleans()):
        body: Any = draw(st.one_of(st.binary(max_size=30), st.sampled_from([b"[]", b"1", b'"x"', b"{", b"null"])))
    else:
        body = draw(params)
    return method, path, body, draw(st.booleans())


async def _check(api: Api, bot: BybitClient, case: tuple[str, str, Any, bool]) -> None:
    method, path, body, signed = case
    if method == "GET":
        flat = {k: v if isinstance(v, str) else json.dumps(v) for k, v in body.items()}
        query = urlencode(flat)
        headers = bot.headers(query) if signed else {}
        response = await api.client.get(f"/v5/{path}" + (f"?{query}" if query else ""), headers=headers)
    else:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers = bot.headers(raw.decode("latin-1")) if signed else {"Content-Type": "application/json"}
        response = await api.client.post(f"/v5/{path}", data=raw, headers=headers)
    assert response.status_code == 200, (case, await response.get_data())
    answer = json.loads(await response.get_data())
    assert set(answer) == {"retCode", "retMsg", "result", "retExtInfo", "time"}, case
    assert isinstance(answer["retCode"], int)
    assert isinstance(answer["time"], int)
    assert answer["retCode"] != 10016, (case, answer)


def test_v5_never_answers_5xx_and_always_its_envelope(tmp_path: Path) -> None:
    loop = asyncio.new_event_loop()
    clock = FixedClock(T0)
    running = running_api(api_container(tmp_path, clock=clock), clock, ApiOptions(rate_limits=False))
    try:
        api = loop.run_until_complete(running.__aenter__())
        api.app.extensions["bybit"].limits.per_second = 10**9  # the fuzz is not about limits
        bot, _ = loop.run_until_complete(trader(api))
        loop.run_until_complete(api.tick("BTCUSDT", last="30000.0"))

        @settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        @given(case=cases())
        def run(case: tuple[str, str, Any, bool]) -> None:
            loop.run_until_complete(_check(api, bot, case))

        run()
    finally:
        loop.run_until_complete(running.__aexit__(None, None, None))
        loop.close()
