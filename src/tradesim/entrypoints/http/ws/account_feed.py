"""Account events from the event bus to the sockets of their owners.

One subscription per app process, watching exactly the accounts of the users connected to it.
Each event is presented and encoded once, and only for a topic some socket of its owner
subscribed to; a balance change schedules one wallet push per
account, computed after the burst of events it belongs to (a fill brings several), and at most
one per `WALLET_EVERY_S` however fast the account trades: a wallet is a database read, and a bot
filling hundreds of orders a second would otherwise cost one read per fill. The last change is
always pushed. Positions and wallets are valued at the account's prices: the live marks, or a
replay account's session's.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine
from typing import Any

import structlog

from tradesim.application.portfolio import PortfolioQueries
from tradesim.domain.events import (
    BalanceChanged,
    CommandRejected,
    EngineEvent,
    OrderFilled,
    PositionChanged,
)
from tradesim.entrypoints.http import presenters
from tradesim.entrypoints.http.bybit import records as bybit_records
from tradesim.entrypoints.http.observability import ApiMetrics, new_message_id
from tradesim.entrypoints.http.tickers import TickerCache
from tradesim.entrypoints.http.ws.hub import Connection, Hub, encode
from tradesim.ports.messaging import AccountEventSubscription, EventBus
from tradesim.ports.prices import PriceSource

log = structlog.get_logger("tradesim.api")

#: Wait this long after a balance change for the rest of its burst (fee, PnL, the position).
WALLET_SETTLE_S = 0.01
#: At most one wallet read and push per account per this long (a trader's screen needs no more).
WALLET_EVERY_S = 0.25


#: The topics that show each kind of event (the order events not named: `order`).
#: `v5.*` are the same events in Bybit's records, for `/v5/private` sockets.
_TOPICS: dict[type[EngineEvent], tuple[str, ...]] = {
    PositionChanged: ("position", "v5.position"),
    BalanceChanged: ("wallet", "v5.wallet"),
    CommandRejected: ("commandRejected",),
    OrderFilled: ("order", "execution", "v5.order", "v5.execution"),
}
_ORDER_TOPICS = ("order", "v5.order")


def private_frame(topic: str, data: list[Any]) -> str:
    """Bybit's private push: an id, the topic, when it was created, and a list of records."""
    return encode({"id": new_message_id(), "topic": topic, "creationTime": time.time_ns() // 1_000_000, "data": data})


class AccountFeed:
    def __init__(
        self,
        bus: EventBus,
        hub: Hub,
        tickers: TickerCache,
        portfolio: PortfolioQueries,
        metrics: ApiMetrics,
        prices: PriceSource,
    ) -> None:
        self._bus = bus
        self._hub = hub
        self._tickers = tickers
        self._prices = prices
        self._portfolio = portfolio
        self._metrics = metrics
        self._subscription: AccountEventSubscription | None = None
        self._watching: dict[str, int] = {}
        self._wallets_due: set[str] = set()
        self._wallet_read_at: dict[str, float] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self) -> None:
        self._subscription = self._bus.subscribe(self._wanted)

    def _wanted(self, account_id: str, kind: type[EngineEvent]) -> bool:
        wants = self._hub.wants
        return any(wants(account_id, topic) for topic in _TOPICS.get(kind, _ORDER_TOPICS))

    async def watch(self, account_id: str) -> None:
        count = self._watching.get(account_id, 0)
        self._watching[account_id] = count + 1
        if not count and self._subscription is not None:
            await self._subscription.watch(account_id)

    async def unwatch(self, account_id: str) -> None:
        count = self._watching.get(account_id, 0) - 1
        if count > 0:
            self._watching[account_id] = count
            return
        self._watching.pop(account_id, None)
        self._wallet_read_at.pop(account_id, None)
        if self._subscription is not None:
            await self._subscription.unwatch(account_id)

    async def attach(self, connection: Connection, user_id: str, account_ids: list[str]) -> None:
        """An authenticated socket: follow its user's accounts."""
        self._hub.authenticated(connection, user_id, account_ids)
        for account_id in account_ids:
            await self.watch(account_id)

    async def detach(self, connection: Connection) -> None:
        self._hub.disconnect(connection)
        followed, connection.account_ids = connection.account_ids, set()
        for account_id in followed:
            await self.unwatch(account_id)

    async def account_opened(self, user_id: str, account_id: str) -> None:
        """A connected user opened an account: their sockets follow it from now on."""
        for connection in self._hub.connections_of(user_id):
            if account_id not in connection.account_ids:
                self._hub.add_account(connection, account_id)
                await self.watch(account_id)

    async def run(self) -> None:
        """Runs for the app's life; `start()` first."""
        assert self._subscription is not None, "AccountFeed.start() must run before run()"
        try:
            async for event in self._subscription:
                try:
                    await self.dispatch(event)
                except Exception:
                    log.exception("account_event_failed", event=type(event).__name__)
        finally:
            await self._subscription.aclose()
            for task in tuple(self._tasks):
                task.cancel()

    async def dispatch(self, event: EngineEvent) -> None:
        account_id = event.account_id
        hub = self._hub
        if isinstance(event, PositionChanged):
            if hub.wants(account_id, "position"):
                position = presenters.position(event.position, await self._prices.marks(account_id))
                hub.publish_private(account_id, "position", private_frame("position", [position]))
            if hub.wants(account_id, "v5.position"):
                record = bybit_records.position(event.position, await self._prices.marks(account_id))
                hub.publish_private(account_id, "v5.position", private_frame("position", [record]))
        elif isinstance(event, BalanceChanged):
            if hub.wants(account_id, "wallet") or hub.wants(account_id, "v5.wallet"):
                self._wallet_due(account_id)
        elif isinstance(event, CommandRejected):
            # Bybit has no such topic: its commands answer synchronously. Ours answer 202 before
            # the engine decides, so a refusal has to reach the trader this way.
            if hub.wants(account_id, "commandRejected"):
                frame = private_frame("commandRejected", [presenters.command_rejected(event)])
                hub.publish_private(account_id, "commandRejected", frame)
        else:
            if hub.wants(account_id, "order"):
                hub.publish_private(account_id, "order", private_frame("order", [presenters.order(event.order)]))
            if isinstance(event, OrderFilled) and hub.wants(account_id, "execution"):
                frame = private_frame("execution", [presenters.execution(event.execution)])
                pushed = hub.publish_private(account_id, "execution", frame)
                if pushed:
                    self._metrics.fills_pushed.inc(pushed)
            if hub.wants(account_id, "v5.order"):
                frame = private_frame("order", [bybit_records.order(event.order)])
                hub.publish_private(account_id, "v5.order", frame)
            if isinstance(event, OrderFilled) and hub.wants(account_id, "v5.execution"):
                frame = private_frame("execution", [bybit_records.execution(event.execution)])
                pushed = hub.publish_private(account_id, "v5.execution", frame)
                if pushed:
                    self._metrics.fills_pushed.inc(pushed)

    def _wallet_due(self, account_id: str) -> None:
        if account_id in self._wallets_due:
            return  # the push already scheduled reads the wallet after this change
        self._wallets_due.add(account_id)
        now = asyncio.get_running_loop().time()
        last = self._wallet_read_at.get(account_id)
        delay = WALLET_SETTLE_S if last is None else max(WALLET_SETTLE_S, last + WALLET_EVERY_S - now)
        self._spawn(self._push_wallet(account_id, delay))

    async def _push_wallet(self, account_id: str, delay: float) -> None:
        await asyncio.sleep(delay)
        # A change from here on schedules the next push: this read may already miss it.
        self._wallets_due.discard(account_id)
        self._wallet_read_at[account_id] = asyncio.get_running_loop().time()
        view = await self._portfolio.wallet(account_id, self._tickers.marks())
        if view is not None:
            self._hub.publish_private(account_id, "wallet", private_frame("wallet", [presenters.wallet(view)]))
            if self._hub.wants(account_id, "v5.wallet"):
                frame = private_frame("wallet", [bybit_records.wallet(view)])
                self._hub.publish_private(account_id, "v5.wallet", frame)

    async def settled(self) -> None:
        """Wait until every wallet push scheduled so far was made (or failed)."""
        while self._tasks:
            await asyncio.gather(*tuple(self._tasks), return_exceptions=True)

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("wallet_push_failed", error=repr(task.exception()))
