"""A key revoked through one api process is refused at once by another (two real `tradesim api`
processes on one PostgreSQL and Redis): every `/v5` request resolves its key from the store."""

from __future__ import annotations

from pathlib import Path

import pytest
from pybit.exceptions import InvalidRequestError
from pybit.unified_trading import HTTP

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
