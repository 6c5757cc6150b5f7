"""A key's request limit is one limit over every api process (two real `tradesim api` processes on
one Redis): requests alternating between them are refused (10006) once the key has used its limit
in the window, not once each process has seen that many."""

from __future__ import annotations

import hashlib
import hmac
import time
from pathlib import Path

import httpx
import pytest

from tests.support.realtime import Stack, Trader, running_stack

pytestmark = pytest.mark.integration

LIMIT = 5


def _signed_get(client: httpx.Client, base_url: str, key: dict[str, str], path: str) -> httpx.Response:
    stamp = str(int(time.time() * 1000))
    signature = hmac.new(
        key["apiSecret"].encode(), (stamp + key["apiKey"] + "5000").encode(), hashlib.sha256
    ).hexdigest()
    headers = {
        "X-BAPI-API-KEY": key["apiKey"],
        "X-BAPI-TIMESTAMP": stamp,
        "X-BAPI-RECV-WINDOW": "5000",
        "X-BAPI-SIGN": signature,
    }
    return client.get(f"{base_url}{path}", headers=headers)


def test_a_keys_limit_is_counted_over_every_api_process(database_url: str, redis_url: str, tmp_path: Path) -> None:
    stack = Stack(database_url, redis_url, tmp_path, extra_env={"TRADESIM_BYBIT_RATE_LIMIT": str(LIMIT)})
    with running_stack(stack), httpx.Client(timeout=10) as client:
        apis = [stack.api(), stack.api()]
        trader = Trader(apis[0].base_url, "limits@example.com")
        key = trader.client.post("/api/v1/api-keys", json={"accountId": trader.open_account()}).json()
        trader.close()
        # Requests alternate between the processes until one is refused. A window that ends first
        # (a slow machine) starts the count afresh: only the window of the refusal is judged.
        served: dict[int, list[int]] = {}
        for n in range(20 * LIMIT):
            api = apis[n % 2]
            answer = _signed_get(client, api.base_url, key, "/v5/account/info")
            window = int(answer.headers["X-Bapi-Limit-Reset-Timestamp"])
            if answer.json()["retCode"] == 10006:
                break
            assert answer.json()["retCode"] == 0
            served.setdefault(window, []).append(n % 2)
        else:
            pytest.fail("no request was refused")
        assert answer.headers["X-Bapi-Limit"] == str(LIMIT)
        assert answer.headers["X-Bapi-Limit-Status"] == "0"
        in_window = served.get(window, [])
        assert len(in_window) == LIMIT, "the key's limit, not each process's"
        assert set(in_window) == {0, 1}, "both processes served the window's requests"
