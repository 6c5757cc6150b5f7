"""Signs `/v5` requests as Bybit clients do, for driving the test app."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import attrs

from tests.unit.http.conftest import Api


def bybit_sign(secret: str, message: str) -> str:
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


@attrs.define
class BybitClient:
    api: Api
    key: str
    secret: str
    recv_window: str = "5000"

    def headers(self, payload: str, *, timestamp: int | None = None, secret: str | None = None) -> dict[str, str]:
        ts = str(self.api.clock.now_ms() if timestamp is None else timestamp)
        return {
            "X-BAPI-API-KEY": self.key,
            "X-BAPI-TIMESTAMP": ts,
            "X-BAPI-RECV-WINDOW": self.recv_window,
            "X-BAPI-SIGN": bybit_sign(secret or self.secret, ts + self.key + self.recv_window + payload),
            "Content-Type": "application/json",
        }

    async def get(self, path: str, query: str = "", **options: Any) -> dict[str, Any]:
        response = await self.api.client.get(
            f"/v5/{path}" + (f"?{query}" if query else ""), headers=self.headers(query, **options)
        )
        assert response.status_code == 200
        body: dict[str, Any] = await response.get_json()
        return body

    async def post(self, path: str, body: dict[str, Any], **options: Any) -> dict[str, Any]:
        raw = json.dumps(body)
        response = await self.api.client.post(f"/v5/{path}", data=raw, headers=self.headers(raw, **options))
        assert response.status_code == 200
        answer: dict[str, Any] = await response.get_json()
        return answer


async def new_key(api: Api, headers: dict[str, str], account_id: str, *, read_only: bool = False) -> BybitClient:
    response = await api.client.post(
        "/api/v1/api-keys", json={"accountId": account_id, "readOnly": read_only}, headers=headers
    )
    assert response.status_code == 201
    created = await response.get_json()
    return BybitClient(api, created["apiKey"], created["apiSecret"])


async def trader(api: Api, email: str = "bot@example.com", **options: Any) -> tuple[BybitClient, dict[str, Any]]:
    """A user with an account and a key for it: (the signing client, the account)."""
    headers = await api.user(email)
    account = await api.account(headers)
    return await new_key(api, headers, account["accountId"], **options), account
