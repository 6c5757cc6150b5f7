"""What the engine does on its own comes back through Jesse: rejections cancel, liquidations close."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import numpy as np
from jesse.strategies import Strategy

from tests.unit.adapters.jesse.worlds import START, World
from tradesim.domain import CreateType, OrderFilled, OrderRejected
from tradesim.domain.market import Candle


class AllIn(Strategy):  # type: ignore[misc]
    """Buys once with the whole balance times the leverage (no room left for the engine's fee)."""

    def __init__(self) -> None:
        super().__init__()
        self.closed: list[Any] = []

    def should_long(self) -> bool:
        return self.index == 0

    def go_long(self) -> None:
        self.buy = round(self.balance * self.leverage / self.price, 3), self.price

    def should_cancel_entry(self) -> bool:
        return False

    def on_close_position(self, order: Any, closed_trade: Any) -> None:
        self.closed.append((order.type, order.price, closed_trade.pnl))


class Leveraged(AllIn):
    def go_long(self) -> None:
        self.buy = round(self.balance * 5 / self.price, 3), self.price  # half of what 10x allows


def _crash(world: World, symbol: str, start: float, *, drop: float, bars: int) -> None:
    """Flat warm-up bars, then a steady fall of `drop` a bar."""
    candles, price = [], Decimal(str(start))
    for i in range(60 + bars):
        close = price if i < 61 else price - Decimal(str(drop))
        candles.append(
            Candle(symbol, START + i * 60_000, price, max(price, close), min(price, close), close, Decimal(1))
        )
        price = close
    world.bars[symbol] = candles


def test_an_order_the_engine_rejects_is_cancelled_in_jesse() -> None:
    world = World()
    _crash(world, "BTCUSDT", 25000, drop=0, bars=5)  # 0.4 BTC: exactly the balance, and no room for a fee
    ctx = world.add("a", AllIn, leverage=1)
    world.play()
    assert world.runtime.failed == {}
    [rejected] = [e for e in world.events if isinstance(e, OrderRejected)]
    assert "balance" in str(rejected.error).lower() or "margin" in str(rejected.error).lower()
    [order] = ctx.strategy.orders
    assert order.is_canceled
    assert ctx.position.qty == 0
    assert world.engine.balances("a")["USDT"] == Decimal(10000) == world.ledger_sum("a")


def test_a_liquidation_closes_jesses_position_at_the_engines_price() -> None:
    world = World()
    _crash(world, "BTCUSDT", 30000, drop=100, bars=60)
    ctx = world.add("a", Leveraged, leverage=10)
    world.play()
    assert world.runtime.failed == {}
    [liquidation] = [
        e for e in world.events if isinstance(e, OrderFilled) and e.order.create_type is CreateType.BY_LIQUIDATION
    ]
    [(kind, price, pnl)] = ctx.strategy.closed
    assert kind == "MARKET"
    assert price == float(liquidation.execution.exec_price)
    assert pnl < 0
    assert ctx.position.qty == 0
    balance = world.engine.balances("a")["USDT"]
    assert balance == world.ledger_sum("a")
    assert np.isclose(ctx.wallet.assets["USDT"], float(balance))
