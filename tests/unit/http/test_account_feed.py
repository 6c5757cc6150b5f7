"""Wallet pushes: one per burst of balance changes, a bounded number per second, the last state always."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from tests.waiting import until
from tradesim.adapters.memory.messaging import MemoryEventBus
from tradesim.domain import default_catalog
from tradesim.domain.accounts import AccountView
from tradesim.domain.enums import LedgerKind
from tradesim.domain.events import BalanceChanged
from tradesim.domain.executions import LedgerEntry
from tradesim.domain.wallet import wallet_view
from tradesim.entrypoints.http.observability import ApiMetrics
from tradesim.entrypoints.http.tickers import TickerCache
from tradesim.entrypoints.http.ws import account_feed
from tradesim.entrypoints.http.ws.account_feed import AccountFeed
from tradesim.entrypoints.http.ws.hub import Hub


class Wallets:
    """Stands in for the portfolio queries: the balance the store holds, and how often it was read."""

    def __init__(self) -> None:
        self.balance = Decimal("1000")
        self.reads = 0

    async def wallet(self, account_id: str, marks: Mapping[str, Decimal]) -> AccountView:
        self.reads += 1
        return wallet_view(account_id, {"USDT": self.balance}, [], [], marks, default_catalog())


class Socket:
    def __init__(self) -> None:
        self.frames: list[dict[str, Any]] = []

    async def send(self, message: dict[str, Any]) -> None:
        self.frames.append(json.loads(message["text"]))


def _change(n: int, balance: Decimal) -> BalanceChanged:
    entry = LedgerEntry(f"e{n}", "acc-1", "USDT", Decimal("-1"), LedgerKind.FEE, n, balance)
    return BalanceChanged(entry)


async def _feed(topic: str = "wallet") -> tuple[AccountFeed, Wallets, Socket, asyncio.Task[None]]:
    hub = Hub(ApiMetrics())
    wallets = Wallets()
    feed = AccountFeed(MemoryEventBus(), hub, TickerCache(["BTCUSDT"]), wallets, ApiMetrics(), prices=None)  # type: ignore[arg-type]
    connection = hub.connect()
    socket = Socket()
    writer = asyncio.create_task(connection.write(socket.send))
    await feed.attach(connection, "user-1", ["acc-1"])
    hub.subscribe(connection, topic)
    return feed, wallets, socket, writer


async def test_a_burst_of_balance_changes_gives_one_wallet_push() -> None:
    feed, wallets, socket, writer = await _feed()
    for n in range(5):  # a fill: trade, fee, realised PnL...
        wallets.balance -= 1
        await feed.dispatch(_change(n, wallets.balance))
    await feed.settled()
    await until(lambda: socket.frames)
    assert wallets.reads == 1
    assert [f["data"][0]["walletBalance"] for f in socket.frames] == ["995"]
    writer.cancel()


async def test_a_fast_trader_costs_a_bounded_number_of_reads_and_sees_the_last_balance() -> None:
    feed, wallets, socket, writer = await _feed()
    loop = asyncio.get_running_loop()
    started = loop.time()
    # 150 fills 2 ms apart (or further, on a busy machine): unthrottled, 150 reads.
    for n in range(150):
        wallets.balance -= 1
        await feed.dispatch(_change(n, wallets.balance))
        await asyncio.sleep(0.002)
    await feed.settled()
    elapsed = loop.time() - started
    await until(lambda: len(socket.frames) == wallets.reads)
    assert wallets.reads <= elapsed / account_feed.WALLET_EVERY_S + 2
    assert socket.frames[-1]["data"][0]["walletBalance"] == str(wallets.balance), "the final balance is pushed"
    writer.cancel()


async def test_nobody_subscribed_to_the_wallet_costs_no_wallet_read() -> None:
    feed, wallets, socket, writer = await _feed("execution")
    await feed.dispatch(_change(1, Decimal("999")))
    await feed.settled()  # no push was scheduled, or it has run by now
    assert (wallets.reads, socket.frames) == (0, [])
    writer.cancel()


def test_every_push_has_an_id_of_its_own() -> None:
    frames = [json.loads(account_feed.private_frame("execution", [])) for _ in range(1000)]
    ids = {frame["id"] for frame in frames}
    assert len(ids) == 1000
    assert all(re.fullmatch(r"[0-9a-f]{32}", push_id) for push_id in ids)
    assert {frame["topic"] for frame in frames} == {"execution"}
