"""A replay account through the Bybit-compatible api: a bot is run on history by giving it a key of
the replay's account; its orders are checked and filled at the replay's prices, as on `/api/v1`."""

from __future__ import annotations

from decimal import Decimal

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
