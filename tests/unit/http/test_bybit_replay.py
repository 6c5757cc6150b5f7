"""A replay account through the Bybit-compatible api: a bot is run on history by giving it a key of
the replay's account; its orders are checked and filled at the replay's prices, as on `/api/v1`."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.unit.http.bybit_client import new_key
from tests.unit.http.test_replays import CANDLES, MIN, T1, Replays, replays

__all__ = ["replays"]  # the fixture, shared with the `/api/v1` replay tests


async def test_a_bot_trades_a_replay_account_through_v5_at_the_replays_prices(replays: Replays) -> None:
    api = replays.api
    await api.tick(last="30000.0")  # the live market, which the replay account must never see
    headers = await api.user("backtest@example.com")
    created = await replays.create(headers, T1 + 60 * MIN, "10")
    replay_id, account_id = created["replayId"], created["accountId"]
    bot = await new_key(api, headers, account_id)
    entry = CANDLES[59].close

    placed = await bot.post(
        "order/create",
        {"category": "linear", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Market", "qty": "0.010"},
    )
    assert placed["retCode"] == 0, placed
    other = await bot.post(
        "order/create", {"category": "linear", "symbol": "ETHUSDT", "side": "Buy", "orderType": "Market", "qty": "0.10"}
    )
    assert other["retCode"] == 10001
    assert "ETHUSDT" in other["retMsg"]
    assert await api.drain() == [], "the order went to the replay's session, not the live engine"
    [fill] = (await bot.get("execution/list", "category=linear"))["result"]["list"]
    assert (fill["orderId"], Decimal(fill["execPrice"]), fill["execTime"]) == (
        placed["result"]["orderId"],
        entry,
        str(T1 + 60 * MIN - 1),
    )
    [position] = (await bot.get("position/list", "category=linear&symbol=BTCUSDT"))["result"]["list"]
    assert (position["side"], Decimal(position["markPrice"])) == ("Buy", entry)

    await replays.ok(headers, replay_id, "play")
    assert await replays.play_for(3.0) == 30
    await replays.ok(headers, replay_id, "pause")
    now = CANDLES[89].close
    [position] = (await bot.get("position/list", "category=linear&symbol=BTCUSDT"))["result"]["list"]
    assert Decimal(position["markPrice"]) == now
    assert Decimal(position["unrealisedPnl"]) == (now - entry) * Decimal("0.01")
    wallet = (await bot.get("account/wallet-balance", "accountType=UNIFIED"))["result"]["list"][0]
    assert Decimal(wallet["coin"][0]["unrealisedPnl"]) == (now - entry) * Decimal("0.01")


async def test_market_requests_signed_by_a_replay_key_answer_the_replays_market(replays: Replays) -> None:
    api = replays.api
    await api.tick(last="30000.0")  # the live market
    headers = await api.user("replay-market@example.com")
    created = await replays.create(headers, T1 + 60 * MIN, "10")
    bot = await new_key(api, headers, created["accountId"])

    async def market(path: str, query: str) -> Any:
        answer = await bot.get(f"market/{path}", query)
        assert answer["retCode"] == 0, answer
        return answer["result"]

    async def replay_prices_are(price: Decimal) -> None:
        [ticker] = (await market("tickers", "category=linear"))["list"]
        assert ticker["symbol"] == "BTCUSDT", "a replay's market has its one symbol"
        assert {Decimal(ticker[f]) for f in ("lastPrice", "bid1Price", "ask1Price", "markPrice")} == {price}
        book = await market("orderbook", "category=linear&symbol=BTCUSDT")
        assert (Decimal(book["b"][0][0]), Decimal(book["a"][0][0])) == (price, price)
        [trade] = (await market("recent-trade", "category=linear&symbol=BTCUSDT"))["list"]
        assert Decimal(trade["price"]) == price

    await replay_prices_are(CANDLES[59].close)
    assert (await market("tickers", "category=linear&symbol=ETHUSDT"))["list"] == []
    klines = (await market("kline", "category=linear&symbol=BTCUSDT&interval=1&limit=5"))["list"]
    assert [(int(k[0]), Decimal(k[4])) for k in klines] == [(c.open_time, c.close) for c in CANDLES[59:54:-1]]
    fives = (await market("kline", "category=linear&symbol=BTCUSDT&interval=5&limit=2"))["list"]
    assert [int(k[0]) for k in fives] == [T1 + 55 * MIN, T1 + 50 * MIN]
    assert (Decimal(fives[0][1]), Decimal(fives[0][2]), Decimal(fives[0][4])) == (
        CANDLES[55].open,
        max(c.high for c in CANDLES[55:60]),
        CANDLES[59].close,
    )
    ahead = f"category=linear&symbol=BTCUSDT&interval=1&start={T1 + 60 * MIN}&end={T1 + 120 * MIN}"
    assert (await market("kline", ahead))["list"] == [], "never a bar the replay has not played"

    # Unsigned, the same endpoints answer the live feed.
    live = await api.client.get("/v5/market/tickers?category=linear&symbol=BTCUSDT")
    assert Decimal((await live.get_json())["result"]["list"][0]["lastPrice"]) == Decimal("30000.0")

    await replays.ok(headers, created["replayId"], "play")
    assert await replays.play_for(3.0) == 30
    await replays.ok(headers, created["replayId"], "pause")
    await replay_prices_are(CANDLES[89].close)
    [newest, *_] = (await market("kline", "category=linear&symbol=BTCUSDT&interval=1&limit=3"))["list"]
    assert int(newest[0]) == CANDLES[89].open_time


async def test_a_market_request_with_a_bad_signature_is_refused_not_answered_live(replays: Replays) -> None:
    api = replays.api
    headers = await api.user("replay-market-bad@example.com")
    created = await replays.create(headers, T1 + 60 * MIN, "10")
    bot = await new_key(api, headers, created["accountId"])
    answer = await bot.get("market/tickers", "category=linear", secret="not-the-secret")
    assert answer["retCode"] == 10004
