"""Live deployments' strategies (`ports.deployments.DeployedStrategies`) on Jesse, in a worker process.

Each deployment is a `StrategyContext` like a backtest's, with one difference: its orders do not
go to an engine in this process. They wait in an outbox (`_Outbox`, what the context takes for
its engine) until the deployment host sends them through the order path a person's orders take;
what became of them comes back as the account's events, fed through the same Jesse order handling
(`orders.EngineOrders.apply`). Each order is named by the deployment's orderLinkId for the bar it
was decided on, so deciding a bar again sends nothing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import attrs
import numpy as np
from jesse.enums import order_types, sides
from jesse.services import order_service
from jesse.store import store

from tradesim.adapters.jesse import state as jesse_state
from tradesim.adapters.jesse.catalogue import StrategyCatalogue
from tradesim.adapters.jesse.context import StrategyContext
from tradesim.adapters.jesse.driver import install as install_driver
from tradesim.adapters.jesse.grid import EXCHANGE
from tradesim.adapters.jesse.runtime import describe_failure
from tradesim.adapters.jesse.spec import ContextSpec
from tradesim.domain.commands import CancelOrder, PlaceOrder
from tradesim.domain.enums import OrderType, Side
from tradesim.domain.events import BalanceChanged, EngineEvent
from tradesim.domain.instruments import InstrumentCatalog
from tradesim.domain.market import Candle
from tradesim.domain.orders import Order
from tradesim.domain.positions import Position
from tradesim.domain.strategy_deployment import StrategyDeployment
from tradesim.ports.deployments import Outgoing, StrategyRaised

log = logging.getLogger(__name__)

MINUTE_MS = 60_000
COIN = "USDT"


class _Outbox:
    """The engine as a deployed context sees it: nothing answers at once; commands wait to be sent."""

    def __init__(self, balance: Decimal) -> None:
        self.commands: list[Outgoing] = []
        self.balance = balance

    def place(self, command: PlaceOrder) -> list[EngineEvent]:
        self.commands.append(command)
        return []

    def cancel(self, command: CancelOrder) -> list[EngineEvent]:
        self.commands.append(command)
        return []

    def handle(self, command: object) -> list[EngineEvent]:
        return []  # the leverage is the account's own: its owner sets it, not the strategy's start

    def balances(self, account_id: str) -> dict[str, Decimal]:
        return {COIN: self.balance}

    def order(self, order_id: str) -> None:
        return None

    def position(self, account_id: str, symbol: str) -> None:
        return None

    def drain(self) -> list[Outgoing]:
        out, self.commands = self.commands, []
        return out


@attrs.define(eq=False)
class _Deployed:
    deployment: StrategyDeployment
    outbox: _Outbox
    ctx: StrategyContext | None = None
    #: Close time of the bar the next orders are decided on, and their number within it.
    epoch: int = 0
    seq: int = 0

    def next_link_id(self) -> str:
        link = self.deployment.order_link_id(self.epoch, self.seq)
        self.seq += 1
        return link


class JesseDeployments:
    """See the module docstring. Not thread-safe: one caller (the host's event loop)."""

    def __init__(self, strategies: StrategyCatalogue, catalog: InstrumentCatalog) -> None:
        self._strategies = strategies
        self._catalog = catalog
        self._items: dict[str, _Deployed] = {}

    def __contains__(self, deployment_id: str) -> bool:
        return deployment_id in self._items

    def start(
        self,
        deployment: StrategyDeployment,
        *,
        warmup: Sequence[Candle],
        position: Position | None,
        open_orders: Sequence[Order],
        balance: Decimal,
        now_ms: int,
    ) -> None:
        info = self._strategies.get(deployment.strategy)
        instrument = self._catalog.get(deployment.symbol)
        spec = ContextSpec(
            key=deployment.deployment_id,
            strategy=info.strategy,  # type: ignore[arg-type]
            strategy_name=info.name,
            account_id=deployment.account_id,
            symbol=deployment.symbol,
            timeframe=deployment.timeframe,
            starting_balance=balance,
            hyperparameters=dict(deployment.hyperparameters),
        )
        item = _Deployed(deployment, _Outbox(balance))
        item.epoch = deployment.last_decision_time or now_ms - now_ms % MINUTE_MS
        rows = np.array([_row(c) for c in warmup]) if warmup else None
        start_ms = warmup[-1].open_time + MINUTE_MS if warmup else item.epoch
        try:
            ctx = StrategyContext(spec, instrument, item.outbox, link_ids=item.next_link_id)  # type: ignore[arg-type]
            item.ctx = ctx
            install_driver()  # (needs a context's routes live)
            ctx.start(rows, start_ms)
            _resume(ctx, position, [o for o in open_orders if deployment.made(o.order_link_id)])
            ctx.orders.sync_wallet()
        except Exception as error:
            jesse_state.deactivate()
            raise StrategyRaised(describe_failure(spec, error)) from error
        item.outbox.drain()  # what resuming made is known to the account already
        self._items[deployment.deployment_id] = item

    def on_bar(self, deployment_id: str, candle: Candle) -> tuple[bool, list[Outgoing]]:
        item = self._items[deployment_id]
        ctx = self._live(item)
        close_ms = candle.open_time + MINUTE_MS
        item.epoch, item.seq = close_ms, 0
        try:
            due = ctx.add_bar(np.array(_row(candle)), close_ms)
            if due:
                ctx.execute()
        except Exception as error:
            self._fail(item, error)
        return due, item.outbox.drain()

    def on_events(self, deployment_id: str, events: Sequence[EngineEvent]) -> list[Outgoing]:
        item = self._items[deployment_id]
        ctx = self._live(item)
        for event in events:
            if isinstance(event, BalanceChanged) and event.entry.coin == COIN:
                item.outbox.balance = event.entry.balance_after
        try:
            ctx.orders.apply([e for e in events if not isinstance(e, BalanceChanged)])
            ctx.orders.sync_wallet()
        except Exception as error:
            self._fail(item, error)
        return item.outbox.drain()

    def close(self, deployment_id: str) -> list[str]:
        item = self._items.pop(deployment_id, None)
        if item is None or item.ctx is None:
            return []
        jesse_state.activate(item.ctx.state)
        working = [o.id for o in store.orders.get_active_orders(EXCHANGE, item.ctx.symbol)]
        jesse_state.deactivate()
        return working

    @staticmethod
    def _live(item: _Deployed) -> StrategyContext:
        assert item.ctx is not None
        install_driver()
        jesse_state.activate(item.ctx.state)
        return item.ctx

    def _fail(self, item: _Deployed, error: Exception) -> None:
        assert item.ctx is not None
        message = describe_failure(item.ctx.spec, error)
        log.warning("deployment %s failed: %s", item.deployment.deployment_id, message)
        self._items.pop(item.deployment.deployment_id, None)
        jesse_state.deactivate()
        raise StrategyRaised(message) from error


def _row(candle: Candle) -> list[float]:
    """A bar in Jesse's layout: time, open, close, high, low, volume."""
    return [
        float(candle.open_time),
        float(candle.open),
        float(candle.close),
        float(candle.high),
        float(candle.low),
        float(candle.volume),
    ]


def _resume(ctx: StrategyContext, position: Position | None, open_orders: Sequence[Order]) -> None:
    """Give a context built afresh the account's position and the orders the deployment has working."""
    if position is not None and position.size:
        sign = 1.0 if position.side is Side.BUY else -1.0
        ctx.position.qty = sign * float(position.size)
        ctx.position.entry_price = float(position.entry_value / position.size)
        ctx.position.opened_at = store.app.time
    for open_order in open_orders:
        side = sides.BUY if open_order.side is Side.BUY else sides.SELL
        price: Decimal | None
        if open_order.trigger_price is not None:
            kind, price = order_types.STOP, open_order.trigger_price
        elif open_order.order_type is OrderType.LIMIT:
            kind, price = order_types.LIMIT, open_order.price
        else:
            kind, price = order_types.MARKET, None
        remaining = float(open_order.qty - open_order.cum_exec_qty)
        order: Any = order_service.create_order(
            {
                "id": open_order.order_link_id,
                "symbol": ctx.symbol,
                "exchange": EXCHANGE,
                "side": side,
                "type": kind,
                "reduce_only": open_order.reduce_only,
                "qty": remaining if side == sides.BUY else -remaining,
                "price": float(price) if price is not None else float(ctx.position.current_price or 0),
            },
            should_silent=True,
        )
        if store.orders.to_execute and store.orders.to_execute[-1] is order:
            store.orders.to_execute.pop()
        ctx.orders.adopt(order, open_order.order_id)
