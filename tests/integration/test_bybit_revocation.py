"""A key revoked through one api process is refused at once by another (two real `tradesim api`
processes on one PostgreSQL and Redis): its next request, and the `/v5/private` sockets that
authenticated with it, which the other process closes."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from pathlib import Path

import pytest
from pybit.exceptions import InvalidRequestError
from pybit.unified_trading import HTTP
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.support.realtime import Stack, Trader, running_stack

pytestmark = pytest.mark.integration


def test_a_key_revoked_on_one_api_process_fails_at_once_on_another(
    database_url: str, redis_url: str, tmp_path: Path
) -> None:
    stack = Stack(database_url, redis_url, tmp_path)
    with running_stack(stack):
        api_a, api_b = stack.api(), stack.api()
        trader = Trader(api_a.base_url, "revoke@example.com")
        account_id = trader.open_account()
        key = trader.client.post("/api/v1/api-keys", json={"accountId": account_id}).json()
        session = HTTP(api_key=key["apiKey"], api_secret=key["apiSecret"], max_retries=1)
        session.endpoint = api_b.base_url
        assert session.get_account_info()["result"]["unifiedMarginStatus"] == 6

        revoked = trader.client.delete(f"/api/v1/api-keys/{key['apiKeyId']}")
        assert revoked.status_code == 200
        with pytest.raises(InvalidRequestError) as refused:
            session.get_account_info()  # the very next request, on the other process
        assert refused.value.status_code == 10003
        assert key["apiSecret"] not in api_a.output() + api_b.output()
        trader.close()


def _auth_message(key: dict[str, str]) -> str:
    expires = str(int(time.time() * 1000) + 10_000)
    signature = hmac.new(key["apiSecret"].encode(), f"GET/realtime{expires}".encode(), hashlib.sha256).hexdigest()
    return json.dumps({"op": "auth", "args": [key["apiKey"], expires, signature]})


def test_a_key_revoked_on_one_api_process_closes_its_private_sockets_on_another(
    database_url: str, redis_url: str, tmp_path: Path
) -> None:
    stack = Stack(database_url, redis_url, tmp_path)
    with running_stack(stack):
        api_a, api_b = stack.api(), stack.api()
        trader = Trader(api_a.base_url, "revoke-socket@example.com")
        account_id = trader.open_account()
        key = trader.client.post("/api/v1/api-keys", json={"accountId": account_id}).json()
        other = trader.client.post("/api/v1/api-keys", json={"accountId": account_id}).json()
        private_url = api_b.base_url.replace("http://", "ws://") + "/v5/private"
        with connect(private_url) as revoked_ws, connect(private_url) as kept_ws:
            for ws, k in ((revoked_ws, key), (kept_ws, other)):
                ws.send(_auth_message(k))
                assert json.loads(ws.recv(timeout=10))["success"] is True

            assert trader.client.delete(f"/api/v1/api-keys/{key['apiKeyId']}").status_code == 200
            with pytest.raises(ConnectionClosed) as closed:
                while True:  # pushes may come first; the close is what ends this
                    revoked_ws.recv(timeout=10)
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == 4401

            # The other key's socket stays: it still answers Bybit's ping.
            kept_ws.send(json.dumps({"op": "ping", "req_id": "still-here"}))
            assert json.loads(kept_ws.recv(timeout=10))["op"] == "pong"
        # A socket opened after the revocation cannot authenticate with the key.
        with connect(private_url) as late_ws:
            late_ws.send(_auth_message(key))
            assert json.loads(late_ws.recv(timeout=10))["success"] is False
        trader.close()
