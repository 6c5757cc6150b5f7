"""The REAL, unmodified pybit and ccxt against a running tradesim (`tradesim serve` on the real
PostgreSQL and Redis) priced by the project's protocol-faithful Bybit feed: a bot changes only its
base URL and keys."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import ccxt
import ccxt.pro
import httpx
import pybit.unified_trading as pybit_ws
import pytest
import sqlalchemy
from pybit.exceptions import InvalidRequestError
from pybit.unified_trading import HTTP

from tests import services
from tests.support.bybit_venue import Tradesim, Venue, running_venue, trader_key
from tests.support.realtime import wait_for
from tradesim.adapters.sqlalchemy.database import Database
from tradesim.adapters.sqlalchemy.migrate import upgrade_to_head

pytestmark = pytest.mark.integration
SYMBOL = "BTC/USDT:USDT"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "bybit-api.md"


@pytest.fixture(scope="module")
def venue(
    tmp_path_factory: pytest.TempPathFactory, postgres_server: str, redis_url: str
) -> Iterator[tuple[Venue, Tradesim]]:
    """`tradesim serve` (api, worker and streamer in one process) on the real PostgreSQL (a fresh
    database) and Redis (a namespace of its own), priced by the fake Bybit feed."""
    namespace = services.unique_namespace("bybit-clients")
    with services.fresh_postgres_database(postgres_server) as database_url:
        upgrade_to_head(database_url)
        env = {
            "TRADESIM_DATABASE_URL": database_url,
            "TRADESIM_REDIS_URL": redis_url,
            "TRADESIM_REDIS_NAMESPACE": namespace,
        }
        try:
            with running_venue(tmp_path_factory.mktemp("bybit-venue"), **env) as running:
                yield running
        finally:
            services.forget_namespace(redis_url, namespace)


@pytest.fixture
def market(venue: tuple[Venue, Tradesim]) -> tuple[Venue, Tradesim]:
    """The venue at 30000 (ask 30000, bid 29999.9), as each test starts."""
    venue[0].price("30000.0")
    return venue


def pybit_session(base_url: str, key: dict[str, Any]) -> HTTP:
    session = HTTP(api_key=key["apiKey"], api_secret=key["apiSecret"], max_retries=1)
    session.endpoint = base_url  # pybit's documented way to point it at another server
    return session


def ccxt_exchange(base_url: str, key: dict[str, Any]) -> ccxt.bybit:
    urls = dict.fromkeys(("spot", "futures", "v2", "public", "private"), base_url)
    return ccxt.bybit({"apiKey": key["apiKey"], "secret": key["apiSecret"], "urls": {"api": urls}})


def _order(session: HTTP, order_id: str) -> dict[str, Any]:
    found = session.get_open_orders(category="linear", orderId=order_id)["result"]["list"]
    return found[0] if found else {}


def _ended(session: HTTP, order_id: str) -> dict[str, Any] | None:
    order = _order(session, order_id)
    return order if order.get("orderStatus") in ("Filled", "Cancelled", "Rejected") else None


def test_pybit_trades_a_paper_account_end_to_end(market: tuple[Venue, Tradesim]) -> None:
    venue, tradesim = market
    session = pybit_session(tradesim.base_url, trader_key(tradesim.base_url, "pybit@example.com"))

    instruments = session.get_instruments_info(category="linear")["result"]
    assert "BTCUSDT" in [i["symbol"] for i in instruments["list"]]
    wallet = session.get_wallet_balance(accountType="UNIFIED")["result"]["list"][0]
    assert wallet["coin"][0]["walletBalance"] == "100000"

    # A market buy fills at the ask.
    wait_for(lambda: session.get_tickers(category="linear", symbol="BTCUSDT")["result"]["list"], 10, "a price")
    placed = session.place_order(category="linear", symbol="BTCUSDT", side="Buy", orderType="Market", qty="0.010")
    order_id = placed["result"]["orderId"]
    filled = wait_for(lambda: _ended(session, order_id), 10, "the market order to end")
    assert (filled["orderStatus"], filled["avgPrice"]) == ("Filled", "30000")
    [fill] = session.get_executions(category="linear", orderId=order_id)["result"]["list"]
    assert (fill["execPrice"], fill["execQty"], fill["isMaker"]) == ("30000", "0.01", False)
    [position] = session.get_positions(category="linear", symbol="BTCUSDT")["result"]["list"]
    assert (position["side"], position["size"], position["avgPrice"]) == ("Buy", "0.01", "30000")

    # A limit order placed, amended, cancelled; two more cancelled at once.
    resting = session.place_order(
        category="linear", symbol="BTCUSDT", side="Buy", orderType="Limit", qty="0.010", price="25000"
    )["result"]["orderId"]
    wait_for(lambda: _order(session, resting).get("orderStatus") == "New", 10, "the limit order to rest")
    session.amend_order(category="linear", symbol="BTCUSDT", orderId=resting, price="25100")
    wait_for(lambda: _order(session, resting).get("price") == "25100", 10, "the amendment")
    session.cancel_order(category="linear", symbol="BTCUSDT", orderId=resting)
    assert wait_for(lambda: _ended(session, resting), 10, "the cancel")["orderStatus"] == "Cancelled"
    for price in ("24000", "24100"):
        session.place_order(
            category="linear", symbol="BTCUSDT", side="Buy", orderType="Limit", qty="0.010", price=price
        )
    wait_for(lambda: len(session.get_open_orders(category="linear")["result"]["list"]) == 2, 10, "two resting orders")
    assert len(session.cancel_all_orders(category="linear", symbol="BTCUSDT")["result"]["list"]) == 2
    wait_for(lambda: session.get_open_orders(category="linear")["result"]["list"] == [], 10, "cancel-all")

    # A stop-loss set on the position, triggered by a price move: the position closes at a loss.
    session.set_trading_stop(category="linear", symbol="BTCUSDT", stopLoss="29000", positionIdx=0)
    wait_for(
        lambda: session.get_positions(category="linear", symbol="BTCUSDT")["result"]["list"][0]["stopLoss"] == "29000",
        10,
        "the stop-loss on the position",
    )
    venue.price("28900.0")
    wait_for(
        lambda: session.get_positions(category="linear", symbol="BTCUSDT")["result"]["list"][0]["size"] == "0",
        10,
        "the stop-loss to close the position",
    )
    [closed] = session.get_closed_pnl(category="linear", symbol="BTCUSDT")["result"]["list"]
    assert closed["side"] == "Sell"
    assert Decimal(closed["closedSize"]) == Decimal("0.01")
    assert Decimal(closed["closedPnl"]) < 0
    assert Decimal(closed["avgEntryPrice"]) == Decimal("30000")

    # Refusals come back as pybit's own errors with Bybit's codes.
    with pytest.raises(InvalidRequestError) as refused:
        session.cancel_order(category="linear", symbol="BTCUSDT", orderId="no-such-order")
    assert refused.value.status_code == 110001


def test_ccxt_trades_a_paper_account_end_to_end(market: tuple[Venue, Tradesim]) -> None:
    venue, tradesim = market
    exchange = ccxt_exchange(tradesim.base_url, trader_key(tradesim.base_url, "ccxt@example.com"))

    markets = exchange.load_markets()  # its eleven instruments-info calls, currencies, and more
    assert markets[SYMBOL]["linear"] is True
    assert markets[SYMBOL]["swap"] is True
    assert exchange.fetch_balance()["USDT"]["total"] == 100000

    order = exchange.create_order(SYMBOL, "market", "buy", 0.01)
    fetched = wait_for(
        lambda: (o := exchange.fetch_order(order["id"], SYMBOL, {"acknowledged": True}))["status"] == "closed" and o,
        10,
        "the market order to fill",
    )
    assert fetched["average"] == 30000
    [trade] = exchange.fetch_my_trades(SYMBOL)
    assert (trade["order"], trade["price"], trade["amount"], trade["takerOrMaker"]) == (
        order["id"],
        30000,
        0.01,
        "taker",
    )
    [position] = exchange.fetch_positions([SYMBOL])
    assert (position["side"], position["contracts"], position["entryPrice"]) == ("long", 0.01, 30000)

    resting = exchange.create_order(SYMBOL, "limit", "buy", 0.01, 25000)
    wait_for(lambda: [o["id"] for o in exchange.fetch_open_orders(SYMBOL)] == [resting["id"]], 10, "the resting order")
    exchange.edit_order(resting["id"], SYMBOL, "limit", "buy", 0.01, 25100)
    wait_for(lambda: exchange.fetch_open_orders(SYMBOL)[0]["price"] == 25100, 10, "the amendment")
    exchange.cancel_order(resting["id"], SYMBOL)
    wait_for(lambda: exchange.fetch_open_orders(SYMBOL) == [], 10, "the cancel")
    exchange.create_order(SYMBOL, "limit", "buy", 0.01, 24000)
    wait_for(lambda: len(exchange.fetch_open_orders(SYMBOL)) == 1, 10, "another resting order")
    exchange.cancel_all_orders(SYMBOL)
    wait_for(lambda: exchange.fetch_open_orders(SYMBOL) == [], 10, "cancel-all")

    # A take-profit through ccxt's own signed call of the endpoint, triggered by a price move.
    exchange.private_post_v5_position_trading_stop(
        {"category": "linear", "symbol": "BTCUSDT", "takeProfit": "31000", "positionIdx": 0}
    )
    wait_for(lambda: exchange.fetch_positions([SYMBOL])[0]["takeProfitPrice"] == 31000, 10, "the take-profit")
    venue.price("31100.0")
    wait_for(
        lambda: not exchange.fetch_positions([SYMBOL]) or not exchange.fetch_positions([SYMBOL])[0]["contracts"],
        10,
        "the take-profit to close the position",
    )
    closed = exchange.private_get_v5_position_closed_pnl({"category": "linear", "symbol": "BTCUSDT"})["result"]["list"]
    assert len(closed) == 1
    assert Decimal(closed[0]["closedPnl"]) > 0

    with pytest.raises(ccxt.OrderNotFound):
        exchange.cancel_order("no-such-order", SYMBOL)
    with pytest.raises(ccxt.BadSymbol):  # ccxt knows Bybit's words for it
        exchange.private_post_v5_order_create(
            {"category": "linear", "symbol": "NOPEUSDT", "side": "Buy", "orderType": "Market", "qty": "1"}
        )


def test_pybits_private_socket_and_ccxt_watch_orders_receive_the_pushes(
    market: tuple[Venue, Tradesim], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, tradesim = market
    ws_base = tradesim.base_url.replace("http://", "ws://")
    key = trader_key(tradesim.base_url, "sockets@example.com")
    # pybit's documented way to point its sockets at another server: its module constants.
    monkeypatch.setattr(pybit_ws, "PRIVATE_WSS", f"{ws_base}/v5/private")
    monkeypatch.setattr(pybit_ws, "PUBLIC_WSS", f"{ws_base}/v5/public/{{CHANNEL_TYPE}}")
    pushes: list[dict[str, Any]] = []
    ticks: list[dict[str, Any]] = []
    private = pybit_ws.WebSocket(
        testnet=False, channel_type="private", api_key=key["apiKey"], api_secret=key["apiSecret"]
    )
    public = pybit_ws.WebSocket(testnet=False, channel_type="linear")
    try:
        for stream in (private.order_stream, private.execution_stream, private.position_stream, private.wallet_stream):
            stream(callback=pushes.append)
        public.ticker_stream(symbol="BTCUSDT", callback=ticks.append)
        session = pybit_session(tradesim.base_url, key)
        # pybit sends its four subscriptions without waiting for their acks: orders placed until
        # every topic has pushed (the first may fill before the last subscription is in place).
        placed: list[str] = []

        def every_topic_pushed() -> bool:
            if {"order", "execution", "position", "wallet"} <= {m["topic"] for m in pushes}:
                return True
            placed.append(
                session.place_order(category="linear", symbol="BTCUSDT", side="Buy", orderType="Market", qty="0.010")[
                    "result"
                ]["orderId"]
            )
            return False

        wait_for(every_topic_pushed, 20, "the pushes of every topic", every=1.0)
        fills = [e for m in pushes if m["topic"] == "execution" for e in m["data"]]
        assert {e["orderId"] for e in fills} <= set(placed)
        assert {e["execPrice"] for e in fills} == {"30000"}
        wait_for(lambda: ticks, 10, "a ticker on the public socket")
        assert ticks[-1]["data"]["symbol"] == "BTCUSDT"
    finally:
        private.exit()
        public.exit()

    async def watch() -> list[dict[str, Any]]:
        urls = dict.fromkeys(("spot", "futures", "v2", "public", "private"), tradesim.base_url)
        private_url = f"{ws_base}/v5/private"
        urls["ws"] = {  # type: ignore[assignment]
            "public": {c: f"{ws_base}/v5/public/{c}" for c in ("linear", "spot", "inverse", "option")},
            "private": {"contract": private_url, "spot": {"unified": private_url}, "usdc": private_url},
        }
        exchange = ccxt.pro.bybit({"apiKey": key["apiKey"], "secret": key["apiSecret"], "urls": {"api": urls}})
        try:
            await exchange.load_markets()
            watching = asyncio.ensure_future(exchange.watch_orders(SYMBOL))
            await exchange.watch_ticker(SYMBOL)  # the socket is subscribed once prices flow to it too
            placed = await exchange.create_order(SYMBOL, "market", "sell", 0.01)
            orders = await asyncio.wait_for(watching, 10)
            return [o for o in orders if o["id"] == placed["id"]]
        finally:
            await exchange.close()

    [watched] = asyncio.run(watch())
    assert watched["side"] == "sell"


def test_a_secret_is_in_no_log_no_later_answer_and_not_in_clear_in_the_database(
    market: tuple[Venue, Tradesim],
) -> None:
    _, tradesim = market
    key = trader_key(tradesim.base_url, "secrets@example.com")
    secret = key["apiSecret"]
    session = pybit_session(tradesim.base_url, key)
    answers = [
        json.dumps(session.get_api_key_information()),
        json.dumps(session.get_wallet_balance(accountType="UNIFIED")),
    ]
    wrong = pybit_session(tradesim.base_url, {**key, "apiSecret": secret[::-1]})
    with pytest.raises(InvalidRequestError) as refused:
        wrong.get_wallet_balance(accountType="UNIFIED")
    assert refused.value.status_code == 10004
    with httpx.Client(base_url=tradesim.base_url, headers={"Authorization": f"Bearer {key['accessToken']}"}) as client:
        answers.append(client.get("/api/v1/api-keys").text)
        answers.append(client.delete(f"/api/v1/api-keys/{key['apiKeyId']}").text)
    with pytest.raises(InvalidRequestError) as revoked:
        session.get_wallet_balance(accountType="UNIFIED")
    assert revoked.value.status_code == 10003
    assert all(secret not in answer for answer in answers)
    assert secret not in tradesim.output()
    stored = asyncio.run(_api_key_rows(tradesim.env["TRADESIM_DATABASE_URL"]))
    assert [row["api_key"] for row in stored] == [key["apiKey"]]
    assert all(secret not in str(value) for row in stored for value in row.values())


async def _api_key_rows(database_url: str) -> list[dict[str, Any]]:
    database = Database(database_url)
    try:
        async with database.engine.connect() as connection:
            rows = await connection.execute(sqlalchemy.text("SELECT * FROM api_keys WHERE revoked_time > 0"))
            return [dict(row) for row in rows.mappings()]
    finally:
        await database.dispose()


def test_the_docs_pybit_and_ccxt_examples_run_as_written(market: tuple[Venue, Tradesim]) -> None:
    _, tradesim = market
    key = trader_key(tradesim.base_url, "docs@example.com")
    examples = re.findall(r"```python\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S)
    assert len(examples) == 2
    env = os.environ | {
        "TRADESIM_URL": tradesim.base_url,
        "TRADESIM_API_KEY": key["apiKey"],
        "TRADESIM_API_SECRET": key["apiSecret"],
    }
    outputs = []
    for example in examples:
        result = subprocess.run([sys.executable, "-c", example], capture_output=True, text=True, timeout=120, env=env)
        assert result.returncode == 0, result.stderr
        outputs.append(result.stdout)
    assert "equity 100000" in outputs[0]
    assert "order " in outputs[0]
    assert "open ['" in outputs[1]
