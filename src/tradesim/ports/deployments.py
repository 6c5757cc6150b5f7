"""The strategies of live deployments, as the worker's deployment host drives them.

The host (application) owns leases, bars, the order path and the account's events; the
strategies (Jesse, in worker processes only) only decide. A strategy answers every call with the
orders it wants sent, in order; it never sends anything itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Protocol

from tradesim.domain.commands import CancelOrder, PlaceOrder
from tradesim.domain.events import EngineEvent
from tradesim.domain.market import Candle
from tradesim.domain.orders import Order
from tradesim.domain.positions import Position
from tradesim.domain.strategy_deployment import StrategyDeployment

Outgoing = PlaceOrder | CancelOrder


class StrategyRaised(Exception):
    """The deployment's strategy raised; the message names the strategy, the method and the line."""


class DeployedStrategies(Protocol):
    """Many deployments' strategies in one process. Every method may raise `StrategyRaised`, after
    which that deployment is gone from here (the others are untouched)."""

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
        """Build the strategy on its warm-up bars (closed 1m bars, oldest first) with the account's
        stored position, open orders (those the deployment made) and balance."""
        ...

    def on_bar(self, deployment_id: str, candle: Candle) -> tuple[bool, list[Outgoing]]:
        """A closed 1m bar of its symbol: (whether its timeframe closed and it decided, the orders to send)."""
        ...

    def on_events(self, deployment_id: str, events: Sequence[EngineEvent]) -> list[Outgoing]:
        """Its account's events (fills, cancels, rejections, balance changes); the orders that follow."""
        ...

    def close(self, deployment_id: str) -> list[str]:
        """Forget it; the orderLinkIds of the orders it has working (to cancel when it was stopped)."""
        ...
