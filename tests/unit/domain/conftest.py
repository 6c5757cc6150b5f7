"""Small hand-written helpers for driving the matching engine in tests.

`Sim` wraps one engine and its `ManualClock`, keeps every event the engine returned, and has
shorthands for the things a trader does: a ticker, a buy, a sell, a command.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any, TypeVar

import pytest

from tradesim.domain import (
    AccountView,
    BalanceChanged,
    Category,
    Command,
    EngineConfig,
    EngineEvent,
    Execution,
    Instrument,
    InstrumentCatalog,
    LedgerEntry,
    ManualClock,
    MatchingEngine,
    OrderFilled,
    OrderType,
    PlaceOrder,
    Position,
    Side,
    Ticker,
    default_catalog,
)

D = Decimal
#: 2023-11-14 22:13:20 UTC: an arbitrary, fixed start for every simulated clock.
T0 = 1_700_000_000_000
E = TypeVar("E")


def of_type(events: Iterable[object], kind: type[E]) -> list[E]:
    return [event for event in events if isinstance(event, kind)]


def one(events: Iterable[object], kind: type[E]) -> E:
    found = of_type(events, kind)
    assert len(found) == 1, f"expected exactly one {kind.__name__}, got {found}"
    return found[0]


def fills(events: Iterable[object]) -> list[Execution]:
    return [event.execution for event in of_type(events, OrderFilled)]


def ledger(events: Iterable[object]) -> list[LedgerEntry]:
    return [event.entry for event in of_type(events, BalanceChanged)]


def btc_linear(**overrides: Any) -> Instrument:
    """The bundled BTCUSDT perpetual with some fields replaced (fees, MMR, leverage cap...)."""
    base = default_catalog().get("BTCUSDT")
    record = base.to_record()
    names = {
        "tick_size": "tickSize",
        "min_notional": "minNotionalValue",
        "max_leverage": "maxLeverage",
        "maker_fee_rate": "makerFeeRate",
        "taker_fee_rate": "takerFeeRate",
        "maintenance_margin_rate": "maintenanceMarginRate",
        "min_order_qty": "minOrderQty",
        "qty_step": "qtyStep",
    }
    for name, value in overrides.items():
        record[names[name]] = value
    return Instrument.from_record(record)


_DECIMAL_FIELDS = frozenset({"trigger_price", "take_profit", "stop_loss"})


class Sim:
    """One engine, its clock, and every event it has returned so far (in `events`)."""

    def __init__(
        self,
        catalog: InstrumentCatalog | None = None,
        config: EngineConfig | None = None,
        start: int = T0,
    ) -> None:
        self.clock = ManualClock(start)
        self.engine = MatchingEngine(catalog or default_catalog(), self.clock, config)
        self.events: list[EngineEvent] = []

    def _record(self, events: Sequence[EngineEvent]) -> list[EngineEvent]:
        self.events.extend(events)
        return list(events)

    def open(self, account_id: str = "acc", balance: str = "10000", coin: str = "") -> list[EngineEvent]:
        return self._record(self.engine.open_account(account_id, D(balance), coin=coin))

    def tick(
        self,
        last: str,
        *,
        bid: str | None = None,
        ask: str | None = None,
        mark: str | None = None,
        symbol: str = "BTCUSDT",
        category: Category = Category.LINEAR,
        ts: int | None = None,
        **extra: Any,
    ) -> list[EngineEvent]:
        ticker = Ticker.of(
            symbol,
            last=last,
            bid=bid,
            ask=ask,
            mark=mark,
            ts=self.clock() if ts is None else ts,
            category=category,
            **extra,
        )
        return self._record(self.engine.on_ticker(ticker))

    def order(
        self,
        side: Side,
        qty: str,
        *,
        account: str = "acc",
        symbol: str = "BTCUSDT",
        price: str | None = None,
        order_type: OrderType | None = None,
        **fields: Any,
    ) -> list[EngineEvent]:
        """A Limit order when `price` is given, else a Market order; other PlaceOrder fields as keywords."""
        decimals = {k: D(v) if k in _DECIMAL_FIELDS and isinstance(v, str) else v for k, v in fields.items()}
        cmd = PlaceOrder(
            account_id=account,
            symbol=symbol,
            side=side,
            order_type=order_type or (OrderType.LIMIT if price is not None else OrderType.MARKET),
            qty=D(qty),
            price=None if price is None else D(price),
            **decimals,
        )
        return self._record(self.engine.place(cmd))

    def buy(self, qty: str, **kwargs: Any) -> list[EngineEvent]:
        return self.order(Side.BUY, qty, **kwargs)

    def sell(self, qty: str, **kwargs: Any) -> list[EngineEvent]:
        return self.order(Side.SELL, qty, **kwargs)

    def handle(self, command: Command) -> list[EngineEvent]:
        return self._record(self.engine.handle(command))

    def view(self, account: str = "acc") -> AccountView:
        return self.engine.account_view(account)

    def position(self, account: str = "acc", symbol: str = "BTCUSDT") -> Position:
        position = self.engine.position(account, symbol)
        assert position is not None, f"{account} has no {symbol} position record"
        return position

    def advance(self, ms: int) -> None:
        self.clock.advance(ms)


def spot_sim() -> Sim:
    """An engine with ``acc`` holding 1,000 USDT and a BTCUSDT spot ticker at 30,000."""
    sim = Sim()
    sim.open(balance="1000")
    sim.tick("30000", bid="29999.99", ask="30000.01", symbol="BTCUSDT", category=Category.SPOT)
    return sim


@pytest.fixture
def sim() -> Sim:
    """A fresh engine on the bundled catalog, default config, with account ``acc`` holding 10,000 USDT."""
    s = Sim()
    s.open()
    return s
