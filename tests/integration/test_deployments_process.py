"""Live strategy deployments across real processes: an api, workers, PostgreSQL and Redis, the test
playing the streamer (tickers, and closed 1m candles on `ticker.{SYMBOL}`).

The strategy (tests/support/deploy_strategies/BuySecondCloseFourth) buys on the close of the 2nd
bar of every run of four and closes on the 4th, by the bars' times alone. A bar is published again
until the deployment says it decided on it (`lastDecisionTime`): the worker ignores a bar it has
seen, so this waits on a condition rather than on the worker's speed. As on a live market, where
bars are a minute apart, the test lets a fill reach the database before it plays the bars that
follow: the worker hears of it on the account's events in the same moment.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import redis
from websockets.sync.client import connect

from tests.support.candles import walk
from tests.support.realtime import Process, Stack, TickerPump, Trader, audit, running_stack
from tests.waiting import wait_for
from tradesim.adapters.redis.market_codec import encode_events
from tradesim.domain.bars import day_start_ms
from tradesim.domain.market import Candle
from tradesim.ports.messaging import price_channel

pytestmark = pytest.mark.integration

STRATEGIES = Path(__file__).parents[1] / "support" / "deploy_strategies"
URL = "/api/v1/strategy-deployments"
MIN = 60_000


class Bars:
    """Closed 1m candles of BTCUSDT as the streamer publishes them, at the ticker pump's price."""

    def __init__(self, stack: Stack, pump: TickerPump, trader: Trader, deployment_id: str) -> None:
        self._client = redis.Redis.from_url(stack.redis_url)
        self._channel = stack.namespace + price_channel("BTCUSDT")
        self._pump = pump
        self._trader = trader
        self._deployment_id = deployment_id
        now = int(time.time() * 1000)
        self.first = now - now % (4 * MIN) - 40 * MIN  # slot 0 of a run of four, safely closed

    def play(self, n: int) -> None:
        """Bar `n` (from `first`), published until the deployment decided on it."""
        open_time = self.first + n * MIN
        price = self._pump.prices["BTCUSDT"]
        candle = Candle("BTCUSDT", open_time, price, price, price, price, Decimal(1))

        def decided() -> bool:
            self._client.publish(self._channel, encode_events([candle]))
            found = self._trader.client.get(f"{URL}/{self._deployment_id}").json()
            assert found["status"] == "running", found
            return bool(found["lastDecisionTime"] and found["lastDecisionTime"] >= open_time + MIN)

        wait_for(decided, 90, f"the deployment to decide on bar {n}")

    def close(self) -> None:
        self._client.close()


def orders(trader: Trader, account_id: str) -> list[dict[str, Any]]:
    return list(trader.client.get("/api/v1/orders", params={"accountId": account_id}).json()["list"])


def filled(trader: Trader, account_id: str, count: int) -> list[dict[str, Any]]:
    found = orders(trader, account_id)
    done = [o for o in found if o["orderStatus"] == "Filled"]
    return found if len(done) >= count else []


def deploy(trader: Trader, account_id: str) -> str:
    # The api checks a deployment against the strategies a worker loaded and published.
    wait_for(
        lambda: trader.client.get("/api/v1/strategies").status_code == 200,
        120,
        "a worker to publish the strategies it loaded",
    )
    body = {"strategy": "BuySecondCloseFourth", "accountId": account_id, "symbol": "BTCUSDT", "timeframe": "1m"}
    answer = trader.client.post(URL, json=body)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["deploymentId"])


def deployment_stack(database_url: str, redis_url: str, tmp_path: Path) -> Stack:
    """Workers that run deployments (the harness turns them off elsewhere), with the test strategies."""
    return Stack(
        database_url,
        redis_url,
        tmp_path,
        extra_env={
            "TRADESIM_STRATEGIES_DIR": str(STRATEGIES),
            "TRADESIM_WORKER_LEASE_TTL_MS": "2000",
            "TRADESIM_STRATEGY_DEPLOYMENTS": "1",
        },
    )


def start(stack: Stack) -> tuple[Process, Process]:
    return stack.api(), stack.worker()


def test_a_deployment_trades_on_the_accounts_routes_and_socket_and_stops(
    database_url: str, redis_url: str, tmp_path: Path
) -> None:
    stack = deployment_stack(database_url, redis_url, tmp_path)
    with running_stack(stack), TickerPump(redis_url, stack.namespace, ("BTCUSDT",)) as pump:
        api, _ = start(stack)
        trader = Trader(api.base_url, "deployer@example.com")
        account_id = trader.open_account()
        wait_for(lambda: pump.sent >= 3, 10, "prices to flow")
        deployment_id = deploy(trader, account_id)
        bars = Bars(stack, pump, trader, deployment_id)
        with connect(trader.ws_url()) as ws:
            assert json.loads(ws.recv(timeout=5))["op"] == "auth"
            ws.send(json.dumps({"op": "subscribe", "args": ["order"]}))
            assert json.loads(ws.recv(timeout=5))["success"] is True
            bars.play(0)
            bars.play(1)
            pushed = None
            while pushed is None:
                message = json.loads(ws.recv(timeout=15))
                if message.get("topic") == "order":
                    pushed = next((o for o in message["data"] if o["orderLinkId"]), None)
        assert pushed["side"] == "Buy"
        placed = wait_for(lambda: filled(trader, account_id, 1), 15, "the strategy's buy to fill")
        assert [o["orderLinkId"] for o in placed] == [pushed["orderLinkId"]]

        stopped = trader.client.post(f"{URL}/{deployment_id}/stop")
        assert stopped.json()["status"] == "stopped"
        bars.close()
        # Stopped: bars decide nothing more, and no order follows.
        position = trader.client.get("/api/v1/positions", params={"accountId": account_id}).json()["list"]
        assert [(p["side"], p["size"]) for p in position if Decimal(p["size"])] == [("Buy", "0.001")]
        assert len(orders(trader, account_id)) == 1


def test_a_worker_killed_mid_deployment_is_taken_over_with_no_order_lost_or_doubled(
    database_url: str, redis_url: str, tmp_path: Path
) -> None:
    stack = deployment_stack(database_url, redis_url, tmp_path)
    with running_stack(stack), TickerPump(redis_url, stack.namespace, ("BTCUSDT",)) as pump:
        api, worker = start(stack)
        trader = Trader(api.base_url, "survivor@example.com")
        account_id = trader.open_account()
        wait_for(lambda: pump.sent >= 3, 10, "prices to flow")
        deployment_id = deploy(trader, account_id)
        bars = Bars(stack, pump, trader, deployment_id)
        fills = 0

        def round_trip(first_bar: int) -> None:
            nonlocal fills
            for n in range(first_bar, first_bar + 4):
                bars.play(n)
                if n % 4 in (1, 3):  # a buy, then a sell: filled before the next bar
                    fills += 1
                    wait_for(lambda count=fills: filled(trader, account_id, count), 15, f"fill {fills}")

        round_trip(0)
        bars.play(4)
        bars.play(5)  # the second buy
        fills += 1
        wait_for(lambda: filled(trader, account_id, fills), 15, "the second buy to fill")

        worker.kill9()
        stack.worker()
        for n in (6, 7):  # the rest of this round trip, decided by the worker that took over
            bars.play(n)
        fills += 1
        wait_for(lambda: filled(trader, account_id, fills), 30, "the sell after the take-over")
        round_trip(8)
        placed = orders(trader, account_id)
        bars.close()

        links = Counter(o["orderLinkId"] for o in placed)
        assert len(placed) == 6
        assert set(links.values()) == {1}, links
        assert Counter(o["side"] for o in placed) == {"Buy": 3, "Sell": 3}
        assert all(o["orderStatus"] == "Filled" for o in placed)
        position = trader.client.get("/api/v1/positions", params={"accountId": account_id}).json()["list"]
        assert all(Decimal(p["size"]) == 0 for p in position)
        assert trader.client.get(f"{URL}/{deployment_id}").json()["status"] == "running"
        assert asyncio.run(audit(database_url, [account_id])).problems == []


def test_a_deployment_on_a_replay_account_decides_on_the_replays_bars(
    database_url: str, redis_url: str, tmp_path: Path
) -> None:
    stack = deployment_stack(database_url, redis_url, tmp_path)
    day = date(2024, 1, 1)
    asyncio.run(_store_history(stack, walk("BTCUSDT", day_start_ms(day), 240, seed=3, price="42000.0")))
    with running_stack(stack):
        api, _ = start(stack)
        trader = Trader(api.base_url, "replayer@example.com")
        created = trader.client.post(
            "/api/v1/replays", json={"symbol": "BTCUSDT", "start": day_start_ms(day), "speed": "1"}
        )
        assert created.status_code == 201, created.text
        replay_id, account_id = created.json()["replayId"], created.json()["accountId"]
        deployment_id = deploy(trader, account_id)

        def last_decision() -> int | None:
            decided: int | None = trader.client.get(f"{URL}/{deployment_id}").json()["lastDecisionTime"]
            return decided

        def step_decided(within: float = 60) -> int:
            """One bar of the replay; its close once the deployment decided on it."""
            answer = trader.client.post(f"/api/v1/replays/{replay_id}/control", json={"action": "step"})
            assert answer.status_code == 200, answer.text
            cursor = int(answer.json()["cursor"])
            try:
                decided_on(cursor, within)
            except AssertionError:
                if last_decision() is None:
                    raise  # the worker has not got the deployment yet: nothing decided
                # It has, and is slow (a loaded machine): it decides on every bar played from now
                # on, so playing another one now would make it decide on bars the test skipped.
                decided_on(cursor, 60)
            return cursor

        def decided_on(cursor: int, within: float) -> None:
            wait_for(lambda: (last_decision() or 0) >= cursor, within, "the deployment to decide on the replay's bar")

        # The first bars may play before the worker has the deployment: step until it decides.
        closed = wait_for(lambda: _try(lambda: step_decided(5)), 120, "the deployment's first decision on the replay")
        while closed // MIN % 4 != 2 and not orders(trader, account_id):  # until its buy, on a run's 2nd bar
            closed = step_decided()
        # The buy was sent on that decision. A paused replay fills its account's orders as its bars
        # play: one more bar fills it. Stepping on before the fill is seen would let a slow worker's
        # strategy decide on later bars without knowing of its position, so the test waits instead.
        wait_for(lambda: orders(trader, account_id), 60, "the strategy's buy to reach the account")
        step_decided()
        placed = wait_for(lambda: filled(trader, account_id, 1), 60, "the buy to fill")
        buys = [o for o in placed if o["side"] == "Buy" and o["orderStatus"] == "Filled"]
        # Decided on the close of the strategy's 2nd bar, in replay time (2024), not on the wall clock.
        assert [int(o["orderLinkId"].split("-")[-2]) % 4 for o in buys] == [2]
        assert all(o["orderLinkId"].startswith(deployment_id[-16:]) for o in placed)
        decided = trader.client.get(f"{URL}/{deployment_id}").json()["lastDecisionTime"]
        assert closed <= decided < day_start_ms(date(2024, 1, 2))


def _try(action: Any) -> Any:
    try:
        return action()
    except AssertionError:
        return None


async def _store_history(stack: Stack, candles: list[Candle]) -> None:
    """Day files in the stack's object store and their index, as `tradesim history backfill` leaves them."""
    from tradesim.entrypoints.container import build_container
    from tradesim.entrypoints.settings import Settings

    container = build_container(Settings.from_env(stack.env()))
    await container.init_resources()  # type: ignore[misc]
    try:
        written = await container.storage.candle_store().write_day("BTCUSDT", date(2024, 1, 1), candles)
        async with container.persistence.unit_of_work() as uow:
            await uow.candle_files.record(written)
            await uow.commit()
    finally:
        await container.shutdown_resources()  # type: ignore[misc]
