"""The worker's deployment host: runs the live deployments it holds a lease on.

Every `renew_every_ms` the host claims the running deployments nobody holds (or it holds
already: a claim renews), and lets go of those that were stopped, failed or taken over. A
deployment it takes is built afresh (`DeployedStrategies.start`) from the store: warm-up bars
(the stored 1m candles before now), the account's position, the open orders the deployment made,
the balance. It then decides on each closed 1m bar of its symbol (the streamer's candles on the
price bus; for a replay account, its session's bars) that closes after its `lastDecisionTime`:
bars missed while nobody held it are not decided on afterwards.

Its orders go through `OrderService`, the path a person's orders take, under the deployment's
user, at the bar's close as the last price; the account's events (from the event bus) come back
to the strategy. The order's orderLinkId is derived from the deployment, the bar and the order's
number, so a bar decided again after a take-over answers the orders placed the first time, never
new ones. A stopped deployment's open orders are cancelled; its position stays. A strategy that
raises fails its own deployment (the error names where), and nothing else.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal

import attrs

from tradesim.application.directory import AccountDirectory
from tradesim.application.orders import OrderService
from tradesim.domain.accounts import AccountKind
from tradesim.domain.commands import CancelOrder, PlaceOrder
from tradesim.domain.enums import OrderStatus
from tradesim.domain.errors import Conflict, NotFound, TradesimError
from tradesim.domain.events import EngineEvent, OrderRejected
from tradesim.domain.market import Candle
from tradesim.domain.order_rules import order_from_command
from tradesim.domain.strategy_deployment import DeploymentStatus, StrategyDeployment
from tradesim.ports.clock import Clock
from tradesim.ports.deployments import DeployedStrategies, Outgoing, StrategyRaised
from tradesim.ports.errors import DependencyUnavailable
from tradesim.ports.messaging import AccountEventSubscription, EventBus, PriceBus, Subscription
from tradesim.ports.replay import ReplayBarBus
from tradesim.ports.unit_of_work import UnitOfWorkFactory

log = logging.getLogger(__name__)

MINUTE_MS = 60_000
COIN = "USDT"


@attrs.frozen
class HostConfig:
    owner: str
    lease_ttl_ms: int = 15_000
    #: Warm-up: at most this many stored 1m bars before the take-over.
    warmup_minutes: int = 1440
    #: Deployments claimed per round.
    batch: int = 100

    @property
    def renew_every_ms(self) -> int:
        return max(50, self.lease_ttl_ms // 4)  # renewed four times per lifetime


@attrs.define(eq=False)
class _Held:
    deployment: StrategyDeployment
    #: Where its bars come from: the symbol's (live) or its replay's id.
    source: str
    last_bar_close: int
    last_price: Decimal | None = None


class DeploymentHost:
    def __init__(
        self,
        config: HostConfig,
        uow_factory: UnitOfWorkFactory,
        strategies: DeployedStrategies,
        orders: OrderService,
        prices: PriceBus,
        replay_bars: ReplayBarBus,
        events: EventBus,
        directory: AccountDirectory,
        clock: Clock,
    ) -> None:
        self._config = config
        self._uow = uow_factory
        self._strategies = strategies
        self._orders = orders
        self._prices = prices
        self._replay_bars = replay_bars
        self._events = events
        self._directory = directory
        self._clock = clock
        self._held: dict[str, _Held] = {}
        self._by_account: dict[str, list[str]] = defaultdict(list)
        self._feeds: dict[str, asyncio.Task[None]] = {}
        self._subscription: AccountEventSubscription | None = None
        self._lock = asyncio.Lock()  # one deployment's strategy is never driven by two tasks at once

    @property
    def held(self) -> frozenset[str]:
        return frozenset(self._held)

    def last_bar_close(self, close_ms: int) -> bool:
        """True when every deployment held has seen the bar closing at `close_ms` (or a later one)."""
        return all(h.last_bar_close >= close_ms for h in self._held.values())

    async def run(self, stop: asyncio.Event) -> None:
        self._subscription = self._events.subscribe()
        pump = asyncio.create_task(self._pump_events(self._subscription), name="deployment-events")
        try:
            while not stop.is_set():
                self._raise_from_tasks(pump)
                try:
                    await self.rebalance()
                except DependencyUnavailable as error:
                    log.warning("deployment host: %s; retrying", error)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self._config.renew_every_ms / 1000)
        finally:
            pump.cancel()
            for task in self._feeds.values():
                task.cancel()
            await asyncio.gather(pump, *self._feeds.values(), return_exceptions=True)
            await self._subscription.aclose()
            with contextlib.suppress(DependencyUnavailable):
                for deployment_id in list(self._held):
                    await self._let_go(deployment_id)

    def _raise_from_tasks(self, pump: asyncio.Task[None]) -> None:
        """A bug that ended the events' or a bar feed's task ends the host (the worker restarts) rather than
        leaving its deployments deaf."""
        for task in (pump, *self._feeds.values()):
            if task.done() and not task.cancelled() and (error := task.exception()) is not None:
                raise error

    # -- leases ----------------------------------------------------------------------------------

    async def rebalance(self) -> None:
        """Renew every lease held (letting go of what was stopped, failed or taken), then take new ones."""
        now = self._clock.now_ms()
        owner, until = self._config.owner, now + self._config.lease_ttl_ms
        for deployment_id in list(self._held):
            if not await self._claim(deployment_id, now, until):
                async with self._uow() as uow:
                    current = await uow.deployments.get(deployment_id)
                stopped = current is not None and current.status is DeploymentStatus.STOPPED
                await self._let_go(deployment_id, cancel_orders=stopped)
        async with self._uow() as uow:
            claimable = await uow.deployments.list_claimable(owner, now, limit=self._config.batch)
        for deployment in claimable:
            if deployment.deployment_id not in self._held and await self._claim(deployment.deployment_id, now, until):
                await self._take(deployment)

    async def _claim(self, deployment_id: str, now: int, until: int) -> bool:
        async with self._uow() as uow:
            claimed = await uow.deployments.claim(deployment_id, self._config.owner, now, until)
            await uow.commit()
        return claimed

    async def _take(self, deployment: StrategyDeployment) -> None:
        entry = await self._directory.find(deployment.account_id)
        if entry is None or entry.kind not in (AccountKind.LIVE, AccountKind.REPLAY):
            await self._fail(deployment, f"account {deployment.account_id} cannot be traded by a deployment")
            return
        replay_id = entry.replay_id if entry.kind is AccountKind.REPLAY else None
        if entry.kind is AccountKind.REPLAY and replay_id is None:
            return  # its session is not written yet: taken at a later round
        now = self._clock.now_ms()
        async with self._uow() as uow:
            position = await uow.positions.get(deployment.account_id, deployment.symbol)
            open_orders = [
                o
                for o in await uow.orders.list_by_account(deployment.account_id, open_only=True, limit=1000)
                if o.symbol == deployment.symbol
            ]
            balance = (await uow.balances.get(deployment.account_id)).get(COIN, Decimal(0))
            warmup: list[Candle] = []
            if replay_id is None:
                end = now - now % MINUTE_MS
                warmup = await uow.candles.range(
                    deployment.symbol, end - self._config.warmup_minutes * MINUTE_MS, end - 1
                )
                warmup = [c for c in warmup if c.closed]
        # Watched before the strategy starts: no event of an order it sends can slip past.
        assert self._subscription is not None
        await self._subscription.watch(deployment.account_id)
        try:
            self._strategies.start(
                deployment, warmup=warmup, position=position, open_orders=open_orders, balance=balance, now_ms=now
            )
        except StrategyRaised as error:
            await self._fail(deployment, str(error))
            return
        source = f"replay:{replay_id}" if replay_id is not None else deployment.symbol
        last = max(deployment.last_decision_time or 0, warmup[-1].open_time + MINUTE_MS if warmup else 0)
        self._held[deployment.deployment_id] = _Held(deployment, source, last, warmup[-1].close if warmup else None)
        self._by_account[deployment.account_id].append(deployment.deployment_id)
        self._follow(source)
        log.info("deployment %s (%s on %s) taken", deployment.deployment_id, deployment.strategy, source)

    async def _let_go(self, deployment_id: str, *, cancel_orders: bool = False) -> None:
        held = self._held.pop(deployment_id, None)
        if held is None:
            return
        deployment = held.deployment
        self._strategies.close(deployment_id)
        same_account = self._by_account[deployment.account_id]
        same_account.remove(deployment_id)
        if not same_account and self._subscription is not None:
            await self._subscription.unwatch(deployment.account_id)
        if not any(h.source == held.source for h in self._held.values()):
            task = self._feeds.pop(held.source, None)
            if task is not None:
                task.cancel()
        if cancel_orders:
            await self._cancel_own_orders(deployment)
        async with self._uow() as uow:
            await uow.deployments.release(deployment_id, self._config.owner)
            await uow.commit()

    async def _cancel_own_orders(self, deployment: StrategyDeployment) -> None:
        """Cancel the open orders the deployment made (as the store knows them: those of every worker that held it)."""
        async with self._uow() as uow:
            found = await uow.orders.list_by_account(deployment.account_id, open_only=True, limit=1000)
        for order in found:
            if deployment.made(order.order_link_id):
                with contextlib.suppress(NotFound, Conflict):
                    await self._orders.cancel(deployment.user_id, order.order_id)

    async def _fail(self, deployment: StrategyDeployment, error: str) -> None:
        log.warning("deployment %s failed: %s", deployment.deployment_id, error)
        if deployment.deployment_id in self._held:
            await self._let_go(deployment.deployment_id)
        async with self._uow() as uow:
            await uow.deployments.change_status(deployment.fail(error, self._clock.now_ms()), DeploymentStatus.RUNNING)
            await uow.deployments.release(deployment.deployment_id, self._config.owner)
            await uow.commit()

    # -- bars ------------------------------------------------------------------------------------

    def _follow(self, source: str) -> None:
        if source in self._feeds:
            return
        if source.startswith("replay:"):
            replay_id = source.removeprefix("replay:")
            bars: Subscription[object] = self._replay_bars.subscribe(replay_id)
        else:
            bars = self._prices.subscribe([source])
        self._feeds[source] = asyncio.create_task(self._pump_bars(source, bars), name=f"deployment-bars-{source}")

    async def _pump_bars(self, source: str, bars: Subscription[object]) -> None:
        try:
            async for item in bars:
                candle = getattr(item, "candle", item)  # a replay's bar carries its candle
                if isinstance(candle, Candle) and candle.closed and candle.interval == "1m":
                    try:
                        await self.on_bar(source, candle)
                    except DependencyUnavailable as error:
                        # The bar's orders may be lost; the next bar is decided as usual.
                        log.warning("deployments on %s: bar %s not handled: %s", source, candle.open_time, error)
        finally:
            await bars.aclose()

    async def on_bar(self, source: str, candle: Candle) -> None:
        """A closed 1m bar from `source`: every deployment on it that has not seen the bar gets it."""
        close_ms = candle.open_time + MINUTE_MS
        for held in [h for h in self._held.values() if h.source == source and h.deployment.symbol == candle.symbol]:
            if close_ms <= held.last_bar_close:
                continue  # seen already (a bar published again, or decided before a take-over)
            held.last_bar_close, held.last_price = close_ms, candle.close
            deployment = held.deployment
            async with self._lock:
                try:
                    decided, outgoing = self._strategies.on_bar(deployment.deployment_id, candle)
                except StrategyRaised as error:
                    await self._fail(deployment, str(error))
                    continue
                await self._send(held, outgoing)
            if decided:
                async with self._uow() as uow:
                    await uow.deployments.record_decision(
                        deployment.deployment_id, self._config.owner, close_ms, self._clock.now_ms()
                    )
                    await uow.commit()

    # -- the order path --------------------------------------------------------------------------

    async def _pump_events(self, subscription: AccountEventSubscription) -> None:
        async for event in subscription:
            for deployment_id in tuple(self._by_account.get(event.account_id, ())):
                try:
                    await self._feed(deployment_id, [event])
                except DependencyUnavailable as error:
                    log.warning("deployment %s: orders after an event not sent: %s", deployment_id, error)

    async def _feed(self, deployment_id: str, events: Sequence[EngineEvent]) -> None:
        held = self._held.get(deployment_id)
        if held is None:
            return
        async with self._lock:
            try:
                outgoing = self._strategies.on_events(deployment_id, events)
            except StrategyRaised as error:
                await self._fail(held.deployment, str(error))
                return
            await self._send(held, outgoing)

    async def _send(self, held: _Held, outgoing: Sequence[Outgoing]) -> None:
        deployment = held.deployment
        for command in outgoing:
            try:
                if isinstance(command, PlaceOrder):
                    await self._orders.place(deployment.user_id, command, last_price=held.last_price)
                else:
                    await self._cancel(deployment, command)
            except DependencyUnavailable:
                raise
            except TradesimError as error:
                if isinstance(command, PlaceOrder):
                    # Refused on the way in (margin, size): the strategy hears it as the engine's rejection.
                    await self._refused(held, command, error)
                else:
                    log.info(
                        "deployment %s: cancel of %s refused: %s", deployment.deployment_id, command.order_id, error
                    )

    async def _cancel(self, deployment: StrategyDeployment, command: CancelOrder) -> None:
        order_id = command.order_id
        if deployment.made(order_id):  # known to the strategy by its orderLinkId only
            found = await self._orders.find_by_link_id(deployment.user_id, deployment.account_id, order_id)
            if found is None or not found.status.is_open:
                return
            order_id = found.order_id
        await self._orders.cancel(deployment.user_id, order_id)

    async def _refused(self, held: _Held, command: PlaceOrder, error: TradesimError) -> None:
        now = self._clock.now_ms()
        order = attrs.evolve(
            order_from_command(command, f"refused-{command.order_link_id}", now),
            status=OrderStatus.REJECTED,
            reject_message=error.message,
        )
        log.info("deployment %s: order %s refused: %s", held.deployment.deployment_id, command.order_link_id, error)
        try:
            self._strategies.on_events(held.deployment.deployment_id, [OrderRejected(order, error)])
        except StrategyRaised as raised:
            await self._fail(held.deployment, str(raised))
