"""`kill -9` a worker while 2,000 orders for 200 accounts flow through a real api, Redis and PostgreSQL.

Another worker is started at once; the survivor and the newcomer take the dead one's partitions,
rebuild them from the database and reclaim what it had taken but not acknowledged. Afterwards
every order is in exactly one terminal state, no execution is recorded twice, and every account's
balance is the sum of its ledger.

What the orders end as is arranged, not left to the machine's speed: limit orders priced far
through the market must fill (a GTC limit waits for a fresh price rather than being refused),
limit orders priced far from it must rest until the test cancels them, and only market orders
and limits near the market may end either way (a market order meets a stale price when the
machine is busy, and is refused).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

import pytest

from tests.support.realtime import Stack, TickerPump, Trader, audit, running_stack, stored
from tests.waiting import wait_for
from tradesim.ports.messaging import stable_partition

pytestmark = pytest.mark.integration

ORDERS = 2_000
USERS, ACCOUNTS_EACH = 10, 20
KILL_AFTER = 600
SYMBOLS = ("BTCUSDT", "ETHUSDT", "SOLUSDT")
QTY = {"BTCUSDT": "0.001", "ETHUSDT": "0.01", "SOLUSDT": "0.1"}
TIMINGS = {
    "TRADESIM_WORKER_LEASE_TTL_MS": "2000",
    "TRADESIM_WORKER_RECLAIM_IDLE_MS": "2000",
    "TRADESIM_WORKER_SWEEP_AFTER_MS": "5000",
}


#: How far through or away from the market the arranged limits are priced: a fifth of the start
#: price, hundreds of times what the pump's random walk strays in a run.
FAR = {symbol: price / 5 for symbol, price in TickerPump.STARTS.items()}


def _order_body(rng: random.Random, account_id: str, pump: TickerPump) -> tuple[str, dict[str, str]]:
    """An order and its kind: `market`, `near` (either outcome), `crossing` (must fill), `away` (must rest)."""
    symbol = rng.choice(SYMBOLS)
    side = rng.choice(["Buy", "Sell"])
    body = {"accountId": account_id, "symbol": symbol, "side": side, "qty": QTY[symbol]}
    draw = rng.random()
    if draw < 0.5:
        return "market", {**body, "orderType": "Market"}
    through = 1 if side == "Buy" else -1  # a buy priced above the market crosses it, a sell below
    if draw < 0.7:
        kind, price = "crossing", pump.prices[symbol] + through * FAR[symbol]
    elif draw < 0.85:
        kind, price = "away", pump.prices[symbol] - through * FAR[symbol]
    else:
        kind, price = "near", pump.prices[symbol] + pump.TICKS[symbol] * rng.randint(-30, 30)
    return kind, {**body, "orderType": "Limit", "price": str(price), "timeInForce": "GTC"}


async def _waiting_orders(database_url: str) -> int:
    async with stored(database_url) as uow:
        return len(await uow.orders.list_unaccepted(created_before=int(time.time() * 1000) + 60_000))


async def _statuses(database_url: str, order_ids: list[str]) -> dict[str, str]:
    async with stored(database_url) as uow:
        orders = [await uow.orders.get(order_id) for order_id in order_ids]
    return {order.order_id: order.status.value for order in orders if order is not None}


def test_a_worker_killed_mid_flow_loses_and_duplicates_nothing(
    database_url: str, redis_url: str, tmp_path: Path
) -> None:
    stack = Stack(database_url, redis_url, tmp_path, extra_env=TIMINGS)
    with running_stack(stack), TickerPump(redis_url, stack.namespace, SYMBOLS) as pump:
        api = stack.api()
        first = stack.worker()
        second = stack.worker()
        wait_for(lambda: stack.partitions_of(first) and stack.partitions_of(second), 20, "both workers to own some")
        traders = [Trader(api.base_url, f"crash{u}@example.com") for u in range(USERS)]
        accounts = [(t, t.open_account(f"Account {a}")) for t in traders for a in range(ACCOUNTS_EACH)]
        wait_for(lambda: pump.sent >= 3, 10, "prices to flow")
        btc_partition = stable_partition("BTCUSDT", 8)
        victim = first if btc_partition in stack.partitions_of(first) else second

        rng = random.Random(2024)
        bodies = [
            (accounts[i % len(accounts)][0], *_order_body(rng, accounts[i % len(accounts)][1], pump))
            for i in range(ORDERS)
        ]
        placed: dict[str, list[str]] = {"market": [], "near": [], "crossing": [], "away": []}
        refused: list[str] = []
        with ThreadPoolExecutor(8) as pool:
            futures = {pool.submit(t.client.post, "/api/v1/orders", json=body): kind for t, kind, body in bodies}
            for future in as_completed(futures):
                answer = future.result()
                if answer.status_code == 201:
                    placed[futures[future]].append(answer.json()["orderId"])
                else:
                    refused.append(answer.text)
                if sum(map(len, placed.values())) == KILL_AFTER:
                    victim.kill9()
                    replacement = stack.worker(wait_for_partitions=False)
        assert not refused, refused[:3]
        assert not victim.alive()
        wait_for(lambda: stack.partitions_of(replacement), 30, "the replacement worker to own partitions")
        wait_for(lambda: asyncio.run(_waiting_orders(database_url)) == 0, 60, "every order to be taken in")
        # The orders priced through the market fill before the cancels below could reach them.
        crossing = placed["crossing"]
        wait_for(
            lambda: set(asyncio.run(_statuses(database_url, crossing)).values()) == {"Filled"},
            60,
            f"all {len(crossing)} limit orders priced through the market to fill",
            every=1.0,
        )

        for trader, account_id in accounts:
            listing = trader.client.get("/api/v1/orders", params={"accountId": account_id, "openOnly": "true"})
            for order in listing.json()["list"]:
                assert trader.client.delete(f"/api/v1/orders/{order['orderId']}").status_code in (202, 409)

        account_ids = [a for _, a in accounts]

        def settled() -> bool:
            return not asyncio.run(audit(database_url, account_ids)).problems

        # on a timeout, the audit below names what is wrong
        with contextlib.suppress(AssertionError):
            wait_for(settled, 60, "every order to reach a terminal state", every=1.0)
        result = asyncio.run(audit(database_url, account_ids))
        assert result.orders == ORDERS
        assert result.problems == []
        outcomes = asyncio.run(_statuses(database_url, placed["crossing"] + placed["away"]))
        assert {outcomes[o] for o in placed["crossing"]} == {"Filled"}
        assert {outcomes[o] for o in placed["away"]} == {"Cancelled"}  # rested untouched until cancelled
        assert "owns partitions" in victim.output()  # it was working when it died
        for trader in traders:
            trader.close()
