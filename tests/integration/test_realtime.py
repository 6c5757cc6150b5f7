"""The blueprint's first proof, with real processes: Buy on one api, a worker fills it through Redis,
the execution reaches a WebSocket client of a second api process."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from websockets.sync.client import connect

from tests.support.realtime import Stack, TickerPump, Trader, running_stack
from tests.waiting import wait_for

pytestmark = pytest.mark.integration


def test_a_buy_on_one_api_is_filled_by_a_worker_and_pushed_by_another_api(
    database_url: str, redis_url: str, tmp_path: Path
) -> None:
    stack = Stack(database_url, redis_url, tmp_path)
    with running_stack(stack), TickerPump(redis_url, stack.namespace, ("BTCUSDT",)) as pump:
        api_a, api_b = stack.api(), stack.api()
        worker = stack.worker()
        trader = Trader(api_a.base_url, "blueprint@example.com")
        account_id = trader.open_account()
        wait_for(lambda: pump.sent >= 3, 10, "prices to flow")

        with connect(trader.on(api_b.base_url).ws_url()) as ws:
            assert json.loads(ws.recv(timeout=5))["op"] == "auth"
            ws.send(json.dumps({"op": "subscribe", "args": ["execution", "order"]}))
            assert json.loads(ws.recv(timeout=5))["success"] is True
            # A Buy priced far through the market: it fills at the ask as a market order would, and
            # waits for a price instead of being refused if the worker has not seen one yet.
            order = {"accountId": account_id, "symbol": "BTCUSDT", "side": "Buy", "qty": "0.010"}
            price = str(pump.prices["BTCUSDT"] + 3000)
            placed = trader.client.post("/api/v1/orders", json={**order, "orderType": "Limit", "price": price})
            assert placed.status_code == 201, placed.text
            order_id = placed.json()["orderId"]

            execution = None
            while execution is None:
                message = json.loads(ws.recv(timeout=10))
                if message.get("topic") == "execution":
                    execution = next(e for e in message["data"] if e["orderId"] == order_id)

        assert execution["side"] == "Buy"
        assert Decimal(execution["execQty"]) == Decimal("0.010")
        assert execution["symbol"] == "BTCUSDT"
        # persisted: either api reads it back from the database
        order = trader.on(api_b.base_url).order(order_id)
        assert order["orderStatus"] == "Filled"
        assert Decimal(order["avgPrice"]) == Decimal(execution["execPrice"])
        executions = trader.client.get("/api/v1/executions", params={"accountId": account_id}).json()["list"]
        assert [e["execId"] for e in executions] == [execution["execId"]]
        assert stack.partitions_of(worker)
