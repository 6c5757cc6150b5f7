"""The runtime drives unmodified Jesse strategies on the matching engine, many contexts per process."""

from __future__ import annotations

from typing import Any

import pytest
from jesse.strategies import Strategy

from tests.unit.adapters.jesse.worlds import World
from tradesim.domain import OrderFilled, OrderType


class Cycler(Strategy):  # type: ignore[misc]
    """Long every 20th bar, short 10 bars later, each with a stop-loss and a take-profit `width` away."""

    def hyperparameters(self) -> list[dict[str, Any]]:
        return [{"name": "width", "type": float, "min": 0.0001, "max": 0.1, "default": 0.0005}]

    def __init__(self) -> None:
        super().__init__()
        self.hooks: list[tuple[str, int]] = []  # not `self.vars`: Jesse clears those before each entry

    def _hook(self, name: str) -> None:
        self.hooks.append((name, self.time))

    def should_long(self) -> bool:
        return bool(self.index % 20 == 0)

    def should_short(self) -> bool:
        return bool(self.index % 20 == 10)

    def should_cancel_entry(self) -> bool:
        return True

    def go_long(self) -> None:
        width = self.hp["width"]
        self.buy = 0.01, self.price
        self.stop_loss = 0.01, self.price * (1 - width)
        self.take_profit = 0.01, self.price * (1 + width)

    def go_short(self) -> None:
        width = self.hp["width"]
        self.sell = 0.01, self.price
        self.stop_loss = 0.01, self.price * (1 + width)
        self.take_profit = 0.01, self.price * (1 - width)

    def on_open_position(self, order: Any) -> None:
        self._hook("open")

    def on_close_position(self, order: Any, closed_trade: Any) -> None:
        self._hook("close")


class Faulty(Cycler):
    def should_long(self) -> bool:
        if self.index == 3:
            raise ValueError("boom at bar three")
        return False


def test_a_strategy_trades_through_the_engine_and_its_balance_is_the_ledgers_after_every_bar() -> None:
    world = World()
    world.history("BTCUSDT", 600, seed=11)
    ctx = world.add("a", Cycler)

    def check() -> None:
        engine_balance = world.engine.balances("a")["USDT"]
        assert world.ledger_sum("a") == engine_balance
        assert ctx.wallet.assets["USDT"] == pytest.approx(float(engine_balance), abs=1e-9)

    world.play(after_bar=check)
    hooks = [name for name, _ in ctx.strategy.hooks]
    assert hooks.count("open") >= 5
    assert hooks.count("close") in (hooks.count("open"), hooks.count("open") - 1)
    fills = [e for e in world.events if isinstance(e, OrderFilled) and e.account_id == "a"]
    # Entries are market orders; exits the stop-loss (conditional market) and take-profit (limit) Jesse sent.
    assert {f.order.order_type for f in fills} == {OrderType.MARKET, OrderType.LIMIT}
    assert all(f.order.order_link_id for f in fills)
    # Every trade Jesse records is priced by the engine's fills.
    fill_prices = {f.execution.exec_price for f in fills}
    trades = ctx.strategy.trades
    assert trades
    # (Jesse keeps prices as floats: compared to the engine's decimals within float noise.)
    assert all(any(abs(float(p) - t.entry_price) < 1e-6 for p in fill_prices) for t in trades)


def test_a_strategy_that_raises_fails_alone_and_says_where() -> None:
    world = World()
    world.history("BTCUSDT", 120, seed=5)
    world.history("ETHUSDT", 120, seed=6, price="2000.00", tick="0.01")
    good = world.add("good", Cycler)
    world.add("bad", Faulty, symbol="ETHUSDT")
    world.play()
    error = world.runtime.failed["bad"]
    assert "strategy Faulty raised ValueError in should_long" in error
    assert "test_runtime.py:" in error
    assert "boom at bar three" in error
    assert "bad" not in world.runtime.contexts
    assert "good" in world.runtime.contexts
    assert good.executions == 120
    # The failed account's orders went nowhere else.
    assert all(e.account_id in ("good", "bad") for e in world.events)


def test_two_contexts_on_one_symbol_trade_their_own_accounts() -> None:
    world = World()
    world.history("BTCUSDT", 200, seed=8)
    one = world.add("one", Cycler)
    two = world.add("two", Cycler, hyperparameters={"width": 0.001})
    world.play()
    links = {}
    for ctx in (one, two):
        account = ctx.spec.account_id
        links[account] = {
            f.order.order_link_id for f in world.events if isinstance(f, OrderFilled) and f.account_id == account
        }
        assert links[account], account
        assert all(ctx.orders.sent(link) for link in links[account])
        assert world.ledger_sum(account) == world.engine.balances(account)["USDT"]
    assert not links["one"] & links["two"]
    assert one.strategy.hp["width"] == 0.0005
    assert two.strategy.hp["width"] == 0.001
