"""Redis restarted and PostgreSQL stopped under real api and worker processes.

Redis restarts empty (it keeps nothing on disk): the processes reconnect by themselves, every
order the api accepted (recorded, 201) is filled, and every cancel it accepted (recorded, 202) is
applied, the sweeper queueing again what Redis forgot.
PostgreSQL stopped for 10 s: the api answers 503 with the JSON error shape meanwhile and changes
nothing, then recovers; the worker resumes where it was.
"""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.support.realtime import (
    PrivatePostgres,
    PrivateRedis,
    Stack,
    TickerPump,
    Trader,
    audit,
    running_stack,
    stored,
)
from tests.waiting import wait_for
from tradesim.adapters.sqlalchemy.migrate import upgrade_to_head

pytestmark = pytest.mark.integration

FAST = {
    "TRADESIM_WORKER_LEASE_TTL_MS": "2000",
    "TRADESIM_WORKER_RECLAIM_IDLE_MS": "2000",
    "TRADESIM_WORKER_SWEEP_AFTER_MS": "2000",
}


async def _accepted(database_url: str, order_id: str) -> bool:
    async with stored(database_url) as uow:
        order = await uow.orders.get(order_id)
    return order is not None and order.accepted_time > 0


class OrderFlow:
    """Places an order every `every` seconds from a thread, keeping every answer.

    Each is a limit priced far through the market, alternately Buy and Sell: it fills at the book
    as a market order would, but a worker that has no price yet (one that has just taken its
    partitions over) keeps it until one comes instead of refusing it, so every one must fill.
    """

    def __init__(self, trader: Trader, account_id: str, pump: TickerPump, every: float = 0.05) -> None:
        self._trader, self._account, self._pump, self._every = trader, account_id, pump, every
        self.answers: list[httpx.Response | Exception] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> OrderFlow:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(15)

    def _run(self) -> None:
        side = "Buy"
        while not self._stop.wait(self._every):
            through = 3000 if side == "Buy" else -3000
            order = {"accountId": self._account, "symbol": "BTCUSDT", "side": side, "qty": "0.001"}
            order |= {"orderType": "Limit", "price": str(self._pump.prices["BTCUSDT"] + through)}
            try:
                self.answers.append(self._trader.client.post("/api/v1/orders", json=order))
            except httpx.HTTPError as error:
                self.answers.append(error)
            side = "Sell" if side == "Buy" else "Buy"

    @property
    def accepted(self) -> list[str]:
        return [a.json()["orderId"] for a in self.answers if isinstance(a, httpx.Response) and a.status_code == 201]


def test_redis_restarted_mid_flow_loses_nothing_that_was_accepted(database_url: str, tmp_path: Path) -> None:
    private = PrivateRedis(tmp_path / "redis")
    private.start()
    stack = Stack(database_url, private.url, tmp_path / "stack", extra_env=FAST)
    try:
        with running_stack(stack), TickerPump(private.url, stack.namespace, ("BTCUSDT",)) as pump:
            api = stack.api()
            worker = stack.worker()
            trader = Trader(api.base_url, "redis-restart@example.com")
            account_id = trader.open_account()
            wait_for(lambda: pump.sent >= 3, 10, "prices to flow")
            with OrderFlow(trader, account_id, pump) as flow:
                wait_for(lambda: len(flow.accepted) >= 20, 20, "orders to flow")
                private.stop()
                down_from = len(flow.answers)
                wait_for(lambda: len(flow.answers) >= down_from + 20, 30, "20 orders answered while Redis is down")
                private.start()
                during = flow.answers[down_from:]
                wait_for(lambda: stack.partitions_of(worker), 30, "the worker to take its leases again")
                after = len(flow.accepted)
                wait_for(lambda: len(flow.accepted) >= after + 20, 20, "orders to flow again")
            assert all(isinstance(a, httpx.Response) and a.status_code == 201 for a in during), [
                a if isinstance(a, Exception) else (a.status_code, a.text) for a in during
            ]
            accepted = flow.accepted

            def all_filled() -> bool:
                return all(trader.order(o)["orderStatus"] == "Filled" for o in accepted)

            wait_for(all_filled, 60, f"all {len(accepted)} accepted orders to be filled", every=1.0)
            assert len(during) >= 20  # orders were taken while Redis was down
            result = asyncio.run(audit(stack.database_url, [account_id]))
            assert result.problems == []
            assert result.statuses == {"Filled": len(accepted)}
            assert worker.alive()
    finally:
        private.stop()


def test_cancels_queued_before_redis_restarts_or_answered_while_it_is_down_are_applied_afterwards(
    database_url: str, tmp_path: Path
) -> None:
    """Recorded before queued, like orders: Redis forgetting them does not lose them.

    The worker is stopped first, so that the cancels sent while Redis is up stay unread in its
    stream when Redis restarts empty; the ones sent while it is down are never queued by the api.
    """
    private = PrivateRedis(tmp_path / "redis")
    private.start()
    stack = Stack(database_url, private.url, tmp_path / "stack", extra_env=FAST)
    try:
        with running_stack(stack), TickerPump(private.url, stack.namespace, ("BTCUSDT",)) as pump:
            api = stack.api()
            worker = stack.worker()
            trader = Trader(api.base_url, "redis-cancels@example.com")
            account_id = trader.open_account()
            wait_for(lambda: pump.sent >= 3, 10, "prices to flow")
            resting = [_rest(trader, account_id) for _ in range(6)]
            for order_id in resting:
                wait_for(lambda o=order_id: asyncio.run(_accepted(database_url, o)), 20, "the limit orders to rest")

            assert worker.stop() == 0
            queued = [trader.client.delete(f"/api/v1/orders/{o}") for o in resting[:3]]
            private.stop()
            unqueued = [trader.client.delete(f"/api/v1/orders/{o}") for o in resting[3:]]
            private.start()
            assert [a.status_code for a in queued + unqueued] == [202] * 6, [a.text for a in queued + unqueued]

            stack.worker()

            def all_cancelled() -> bool:
                return all(trader.order(o)["orderStatus"] == "Cancelled" for o in resting)

            wait_for(all_cancelled, 60, "every accepted cancel to be applied", every=1.0)
            result = asyncio.run(audit(stack.database_url, [account_id]))
            assert result.problems == []
            assert result.statuses == {"Cancelled": len(resting)}
    finally:
        private.stop()


def _rest(trader: Trader, account_id: str) -> str:
    """A Limit Buy far below the price, to rest until cancelled."""
    answer = trader.client.post(
        "/api/v1/orders",
        json={
            "accountId": account_id,
            "symbol": "BTCUSDT",
            "side": "Buy",
            "orderType": "Limit",
            "qty": "0.001",
            "price": "20000.0",
        },
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["orderId"])


def test_postgres_stopped_for_ten_seconds_gives_503_then_everything_resumes(redis_url: str, tmp_path: Path) -> None:
    postgres = PrivatePostgres()
    postgres.init()
    postgres.start()
    try:
        upgrade_to_head(postgres.url)
        stack = Stack(postgres.url, redis_url, tmp_path / "stack", extra_env=FAST)
        with running_stack(stack), TickerPump(redis_url, stack.namespace, ("BTCUSDT",)) as pump:
            api = stack.api()
            worker = stack.worker()
            trader = Trader(api.base_url, "pg-stop@example.com")
            account_id = trader.open_account()
            wait_for(lambda: pump.sent >= 3, 10, "prices to flow")
            before = trader.place(account_id).json()["orderId"]
            wait_for(lambda: trader.order(before)["orderStatus"] == "Filled", 20, "the first order to fill")
            resting = trader.client.post(
                "/api/v1/orders",
                json={
                    "accountId": account_id,
                    "symbol": "BTCUSDT",
                    "side": "Buy",
                    "orderType": "Limit",
                    "qty": "0.001",
                    "price": "20000.0",
                },
            ).json()["orderId"]
            wait_for(lambda: asyncio.run(_accepted(postgres.url, resting)), 20, "the limit order to rest")

            postgres.stop()
            stopped = time.monotonic()
            answers: list[httpx.Response] = []
            while time.monotonic() - stopped < 10:
                answers.append(trader.client.get("/api/v1/orders", params={"accountId": account_id}))
                answers.append(trader.place(account_id))
                answers.append(trader.client.get("/readyz"))
                assert trader.client.get("/healthz").status_code == 200  # alive, only not ready
                time.sleep(0.5)
            postgres.start()

            assert answers
            assert {a.status_code for a in answers} == {503}, {(a.status_code, a.text[:200]) for a in answers}
            for answer in answers:
                assert answer.headers["content-type"].startswith("application/json")
                if answer.url.path == "/readyz":
                    assert answer.json()["checks"]["database"] != "ok"
                else:
                    assert answer.json()["error"]["code"] == "DEPENDENCY_UNAVAILABLE", answer.text

            wait_for(
                lambda: trader.client.get("/api/v1/orders", params={"accountId": account_id}).status_code == 200,
                30,
                "the api to answer again",
            )
            after = trader.place(account_id, side="Sell").json()["orderId"]
            wait_for(lambda: trader.order(after)["orderStatus"] == "Filled", 30, "the worker to fill again")
            assert trader.client.delete(f"/api/v1/orders/{resting}").status_code == 202
            wait_for(lambda: trader.order(resting)["orderStatus"] == "Cancelled", 30, "the cancel to go through")
            # the orders refused during the outage were never recorded
            listed = trader.client.get("/api/v1/orders", params={"accountId": account_id}).json()["list"]
            assert sorted(o["orderId"] for o in listed) == sorted([before, resting, after])
            result = asyncio.run(audit(postgres.url, [account_id]))
            assert result.problems == []
            assert worker.alive()
    finally:
        postgres.remove()
