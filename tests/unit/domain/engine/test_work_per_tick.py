"""The engine's work per ticker does not grow with the number of resting orders.

Work is counted, not timed: the number of Python lines the engine runs while it handles each
ticker (`sys.settrace`), on one ticker stream against two books that differ only in how many
orders rest far from the price. The orders near the price, which the stream's spikes reach, are
the same in both, and so are the fills; the far orders belong to the same accounts, so a rule
that looked at every order of an account (or of the instrument) on a fill would show up here.
(Other events may differ: a cross position's liquidation price counts the margin that every
order of its account holds.)
"""

from __future__ import annotations

import random
import sys
from collections.abc import Callable
from decimal import Decimal
from types import FrameType
from typing import Any

import attrs
import pytest

from tests.unit.domain.conftest import T0, fills
from tradesim.domain import (
    EngineEvent,
    ManualClock,
    MatchingEngine,
    OrderRejected,
    OrderType,
    PlaceOrder,
    Side,
    Ticker,
    TriggerBy,
    TriggerDirection,
    default_catalog,
)

D = Decimal
SYMBOL = "BTCUSDT"
ACCOUNTS = 20
CENTRE = 300_000  # in ticks of 0.1: 30,000.0
SMALL_BOOK = 1_000
LARGE_BOOK = 100_000


@attrs.frozen
class Work:
    """Lines run per ticker, split by whether the ticker changed anything."""

    quiet: list[int]
    busy: list[int]
    events: list[list[EngineEvent]]

    @property
    def quiet_mean(self) -> float:
        return sum(self.quiet) / len(self.quiet)


def price(ticks: int) -> Decimal:
    return D(ticks) / 10


def account(number: int) -> str:
    return f"acc-{number:02d}"


def near_orders() -> list[PlaceOrder]:
    """Per account, one order of each kind a spike of the stream reaches; the same in both books."""
    orders: list[PlaceOrder] = []
    for number in range(ACCOUNTS):
        owner = account(number)
        gap = 1_000 + number * 50  # 100.0 to 195.0 away from the centre
        orders.append(PlaceOrder(owner, SYMBOL, Side.BUY, OrderType.LIMIT, D("0.001"), price=price(CENTRE - gap)))
        orders.append(PlaceOrder(owner, SYMBOL, Side.SELL, OrderType.LIMIT, D("0.001"), price=price(CENTRE + gap)))
        for rises, by in ((True, TriggerBy.LAST_PRICE), (False, TriggerBy.MARK_PRICE)):
            orders.append(
                PlaceOrder(
                    owner,
                    SYMBOL,
                    Side.BUY if number % 2 else Side.SELL,
                    OrderType.MARKET,
                    D("0.001"),
                    trigger_price=price(CENTRE + gap + 20 if rises else CENTRE - gap - 20),
                    trigger_direction=TriggerDirection.RISES_TO if rises else TriggerDirection.FALLS_TO,
                    trigger_by=by,
                )
            )
    return orders


def far_orders(count: int) -> list[PlaceOrder]:
    """`count` orders 10% to 30% away from the centre, spread over the same accounts."""
    rng = random.Random(19)
    orders: list[PlaceOrder] = []
    for number in range(count):
        owner = account(number % ACCOUNTS)
        distance = rng.randrange(30_000, 90_000)
        kind = number // ACCOUNTS % 4  # every account gets orders of every kind
        if kind < 2:
            side = Side.BUY if kind == 0 else Side.SELL
            level = CENTRE - distance if side is Side.BUY else CENTRE + distance
            orders.append(PlaceOrder(owner, SYMBOL, side, OrderType.LIMIT, D("0.001"), price=price(level)))
            continue
        rises = kind == 2
        orders.append(
            PlaceOrder(
                owner,
                SYMBOL,
                Side.BUY,
                OrderType.MARKET,
                D("0.001"),
                trigger_price=price(CENTRE + distance if rises else CENTRE - distance),
                trigger_direction=TriggerDirection.RISES_TO if rises else TriggerDirection.FALLS_TO,
                trigger_by=TriggerBy.MARK_PRICE if number % 8 >= 4 else TriggerBy.LAST_PRICE,
            )
        )
    return orders


def ticker_stream(clock: ManualClock) -> list[Ticker]:
    """Quiet wandering within 50.0 of the centre; every 25th ticker a spike onto one account's near orders,
    up then down, so that positions open, close and flip."""
    rng = random.Random(7)
    tickers: list[Ticker] = []
    for step in range(800):
        last = CENTRE + rng.randrange(-500, 500)
        if step % 25 == 24:
            number = (step // 50) % ACCOUNTS
            gap = 1_000 + number * 50 + 20
            last = CENTRE + gap if step % 50 == 24 else CENTRE - gap
        mark = last + rng.randrange(-5, 5)
        tickers.append(
            Ticker.of(
                SYMBOL,
                last=str(price(last)),
                bid=str(price(last - 1)),
                ask=str(price(last + 1)),
                mark=str(price(mark)),
                ts=clock() + step,
            )
        )
    return tickers


def lines_run(call: Callable[[Ticker], list[EngineEvent]], ticker: Ticker) -> tuple[int, list[EngineEvent]]:
    """Run `call(ticker)` counting every Python line executed in it (and in what it calls)."""
    count = 0

    def trace(frame: FrameType, event: str, arg: Any) -> Any:
        nonlocal count
        if event == "line":
            count += 1
        return trace

    before = sys.gettrace()
    sys.settrace(trace)
    try:
        result = call(ticker)
    finally:
        sys.settrace(before)
    return count, result


def work_on(resting: int) -> Work:
    clock = ManualClock(T0)
    engine = MatchingEngine(default_catalog(), clock)
    for number in range(ACCOUNTS):
        engine.open_account(account(number), D(1_000_000_000))
    engine.on_ticker(Ticker.of(SYMBOL, last="30000.0", bid="29999.9", ask="30000.1", mark="30000.0", ts=clock()))
    near = near_orders()
    for command in [*near, *far_orders(resting - len(near))]:
        refused = [e for e in engine.place(command) if isinstance(e, OrderRejected)]
        assert not refused, refused
    assert engine.resting_count() == resting
    clock.advance(1)
    quiet: list[int] = []
    busy: list[int] = []
    events: list[list[EngineEvent]] = []
    for ticker in ticker_stream(clock):
        lines, emitted = lines_run(engine.on_ticker, ticker)
        (busy if emitted else quiet).append(lines)
        events.append(emitted)
    return Work(quiet, busy, events)


@pytest.fixture(scope="module")
def small_and_large() -> tuple[Work, Work]:
    return work_on(SMALL_BOOK), work_on(LARGE_BOOK)


def test_both_books_see_the_same_fills(small_and_large: tuple[Work, Work]) -> None:
    small, large = small_and_large
    assert [fills(events) for events in small.events] == [fills(events) for events in large.events]
    assert len(small.busy) >= 20, "the stream must fill and trigger orders for the comparison to mean anything"


def test_a_ticker_that_makes_nothing_due_costs_the_same_whatever_rests(small_and_large: tuple[Work, Work]) -> None:
    small, large = small_and_large
    assert large.quiet_mean <= small.quiet_mean * 1.1, (large.quiet_mean, small.quiet_mean)
    assert max(large.quiet) <= max(small.quiet) * 1.1, (max(large.quiet), max(small.quiet))


def test_a_ticker_that_fills_and_triggers_costs_the_same_whatever_rests(small_and_large: tuple[Work, Work]) -> None:
    """The same fills and triggers cost the same: at most a little more for a hundred times the book."""
    small, large = small_and_large
    assert sum(large.busy) <= sum(small.busy) * 1.25, (sum(large.busy), sum(small.busy))
    assert max(large.busy) <= max(small.busy) * 1.25, (max(large.busy), max(small.busy))
