"""Isolation: many contexts in one process each give exactly the result they give alone.

Random strategies, hyperparameters and symbols share one runtime and one engine; each is then run
alone in a fresh one. Trades, fills and balances must be identical, and no fill of one account
ever carries another context's order.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.adapters.jesse.test_runtime import Cycler
from tests.unit.adapters.jesse.worlds import World
from tradesim.adapters.jesse.catalogue import StrategyCatalogue
from tradesim.domain import OrderFilled

BARS = 150
CATALOGUE = StrategyCatalogue()
SMA = CATALOGUE.get("SmaCross").strategy
SYMBOLS = {"BTCUSDT": ("30000.0", "0.1"), "ETHUSDT": ("2000.00", "0.01")}

one_context = st.one_of(
    st.tuples(
        st.just("cycler"),
        st.sampled_from(sorted(SYMBOLS)),
        st.fixed_dictionaries({"width": st.sampled_from([0.0003, 0.0006, 0.001])}),
    ),
    st.tuples(
        st.just("sma"),
        st.sampled_from(sorted(SYMBOLS)),
        st.fixed_dictionaries(
            {"fast": st.integers(2, 6), "slow": st.integers(8, 20), "size_percent": st.sampled_from([5.0, 20.0])}
        ),
    ),
)


def _world(seed: int) -> World:
    world = World()
    for n, (symbol, (price, tick)) in enumerate(sorted(SYMBOLS.items())):
        world.history(symbol, BARS, seed=seed + n, price=price, tick=tick)
    return world


def _add(world: World, key: str, kind: str, symbol: str, hps: dict[str, Any]) -> Any:
    strategy = Cycler if kind == "cycler" else SMA
    return world.add(key, strategy, symbol, hyperparameters=hps)


def _outcome(world: World, ctx: Any, account: str) -> tuple[Any, ...]:
    fills = [
        (e.execution.side, e.execution.exec_price, e.execution.exec_qty, e.execution.exec_fee, e.execution.exec_time)
        for e in world.events
        if isinstance(e, OrderFilled) and e.account_id == account
    ]
    trades = [
        (t.type, t.entry_price, t.exit_price, t.qty, t.opened_at, t.closed_at)
        for t in ctx.state.store_dict["closed_trades"].trades
    ]
    return world.engine.balances(account)["USDT"], tuple(fills), tuple(trades), ctx.executions


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(contexts=st.lists(one_context, min_size=2, max_size=5), seed=st.integers(0, 1000))
def test_each_context_gives_alone_what_it_gives_among_others(
    contexts: list[tuple[str, str, dict[str, Any]]], seed: int
) -> None:
    together = _world(seed)
    ctxs = [_add(together, f"acct{n}", *c) for n, c in enumerate(contexts)]
    together.play()
    for n, (ctx, c) in enumerate(zip(ctxs, contexts, strict=True)):
        account = f"acct{n}"
        links = {
            e.order.order_link_id for e in together.events if isinstance(e, OrderFilled) and e.account_id == account
        }
        assert all(ctx.orders.sent(link) for link in links), "a fill of this account carries another context's order"
        alone = _world(seed)
        alone_ctx = _add(alone, account, *c)
        alone.play()
        assert _outcome(together, ctx, account) == _outcome(alone, alone_ctx, account), c
        assert together.ledger_sum(account) == together.engine.balances(account)["USDT"]
    assert together.runtime.failed == {}
    assert any(isinstance(e, OrderFilled) for e in together.events)  # the contexts did trade
    assert Decimal(0) not in [together.engine.balances(f"acct{n}")["USDT"] for n in range(len(contexts))]
