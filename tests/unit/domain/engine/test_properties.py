"""Property-based tests: random command and price sequences never break the engine's invariants.

Three accounts trade BTCUSDT and ETHUSDT perpetuals and BTCUSDT spot with every kind of order,
cancel, amend, change leverage, move money and set TP/SL, while tickers walk the prices on the
tick grid with now and then a jump big enough to liquidate, a stale or late ticker, a stale feed
and public trades. After every step:

(a) each account's balance per coin equals the sum of its ledger entries (and each entry's
    balance_after is that running sum; entry ids never repeat);
(b) every fill is on the tick grid and, except liquidations (BustTrade, at the bankruptcy price by
    rule), within the range of last/bid/ask/trade prices the market showed since the order was placed;
(c) a reduce-only fill never grows a position or flips it;
(d) a position's signed size equals the signed sum of its fills;
(e) every order ends in exactly one terminal status or is still open, and nothing happens to it after.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tradesim.domain import (
    AmendOrder,
    BalanceChanged,
    CancelOrder,
    Category,
    EngineConfig,
    EngineEvent,
    ExecType,
    FeedStatus,
    ManualClock,
    MarginMode,
    MatchingEngine,
    OrderAccepted,
    OrderAmended,
    OrderCancelled,
    OrderFilled,
    OrderRejected,
    OrderStatus,
    OrderTriggered,
    OrderType,
    PlaceOrder,
    SetLeverage,
    SetTradingStop,
    Side,
    Ticker,
    TimeInForce,
    Trade,
    Transfer,
    TriggerBy,
    TriggerDirection,
    default_catalog,
)

D = Decimal
T0 = 1_700_000_000_000
ACCOUNTS = ("alice", "bob", "carol")
# alice: 10x cross (the default); bob: 50x isolated; carol: 25x cross on a small balance.
BALANCES = {"alice": "3000", "bob": "3000", "carol": "500"}
LINEAR, SPOT = Category.LINEAR, Category.SPOT


class Market:
    """One tradable instrument as the generator sees it: where its price starts and its grid."""

    def __init__(self, symbol: str, category: Category, start: str, qty_unit: str) -> None:
        instrument = default_catalog().get(symbol, category)
        self.key = (category, symbol)
        self.symbol = symbol
        self.category = category
        self.tick = instrument.tick_size
        self.start_ticks = int(D(start) / self.tick)
        self.qty_unit = D(qty_unit)


MARKETS = (
    Market("BTCUSDT", LINEAR, "30000", "0.001"),
    Market("ETHUSDT", LINEAR, "2000", "0.01"),
    Market("BTCUSDT", SPOT, "30000", "0.0001"),
)

# -- the steps ----------------------------------------------------------------------------------

market_index = st.integers(0, len(MARKETS) - 1)
account = st.sampled_from(ACCOUNTS)
side = st.sampled_from([Side.BUY, Side.SELL])
# Mostly small moves of up to 0.25%, now and then a jump of up to 30% (enough to liquidate 10x).
basis_points = st.integers(0, 19).flatmap(lambda r: st.integers(-3000, 3000) if r == 0 else st.integers(-25, 25))
# Mostly up to 3 s between tickers, now and then 45 s (beyond the 30 s staleness limit).
gap_ms = st.integers(0, 39).map(lambda r: 45_000 if r == 0 else r * 75)
rarely = st.integers(0, 19).map(lambda r: r == 0)

tick_step = st.fixed_dictionaries(
    {
        "kind": st.just("tick"),
        "market": market_index,
        "move_bp": basis_points,
        "spread": st.tuples(st.integers(0, 4), st.integers(0, 4)),
        "mark_ticks": st.integers(-40, 40),
        "dt": gap_ms,
        "late": rarely,
        "sizes": st.one_of(st.none(), st.tuples(st.integers(0, 30), st.integers(0, 30))),
        "funding": st.one_of(st.none(), st.tuples(st.integers(-10, 10), st.integers(0, 6_000))),
    }
)
place_step = st.fixed_dictionaries(
    {
        "kind": st.just("place"),
        "account": account,
        "market": market_index,
        "side": side,
        "type": st.sampled_from(["market", "gtc", "ioc", "fok", "post", "stop", "stop_limit"]),
        "units": st.integers(1, 40),
        "offset": st.integers(-60, 60),
        "reduce_only": st.integers(0, 3).map(lambda r: r == 0),
        "tpsl": st.one_of(st.none(), st.tuples(st.integers(20, 800), st.integers(20, 800))),
        "by_mark": st.booleans(),
    }
)
cancel_step = st.fixed_dictionaries({"kind": st.just("cancel"), "account": account, "pick": st.integers(0, 50)})
amend_step = st.fixed_dictionaries(
    {
        "kind": st.just("amend"),
        "account": account,
        "pick": st.integers(0, 50),
        "offset": st.integers(-60, 60),
        "units": st.one_of(st.none(), st.integers(1, 40)),
    }
)
leverage_step = st.fixed_dictionaries(
    {
        "kind": st.just("leverage"),
        "account": account,
        "symbol": st.sampled_from(["BTCUSDT", "ETHUSDT"]),
        "leverage": st.sampled_from([1, 5, 10, 25, 50, 100]),
        "isolated": st.booleans(),
    }
)
transfer_step = st.fixed_dictionaries(
    {"kind": st.just("transfer"), "account": account, "amount": st.integers(-4000, 4000)}
)
tpsl_step = st.fixed_dictionaries(
    {
        "kind": st.just("tpsl"),
        "account": account,
        "symbol": st.sampled_from(["BTCUSDT", "ETHUSDT"]),
        "tp_bp": st.one_of(st.none(), st.just(0), st.integers(20, 800)),
        "sl_bp": st.one_of(st.none(), st.just(0), st.integers(20, 800)),
    }
)
trade_step = st.fixed_dictionaries({"kind": st.just("trade"), "market": market_index, "offset": st.integers(-80, 80)})
stale_step = st.fixed_dictionaries({"kind": st.just("stale"), "market": market_index})

step = st.sampled_from(
    [tick_step] * 6
    + [place_step] * 6
    + [cancel_step, amend_step, leverage_step, transfer_step, tpsl_step, trade_step, trade_step]
    + [cancel_step, amend_step, tpsl_step, stale_step]
).flatmap(lambda chosen: chosen)
# Most runs start with a price for every market; some start with none (orders before any price).
opening = st.integers(0, 9).map(lambda r: r != 0)


# -- driving the engine -------------------------------------------------------------------------


class Run:
    """An engine, its clock, the prices the generator has shown, and the invariant bookkeeping."""

    def __init__(self, priced: bool = True) -> None:
        self.clock = ManualClock(T0)
        self.engine = MatchingEngine(default_catalog(), self.clock, EngineConfig(cap_taker_fills_to_book_size=True))
        self.price_ticks = {m.key: m.start_ticks for m in MARKETS}
        #: Where in `shown` the current book (the latest ticker) starts, per market.
        self.book_start: dict[tuple[Category, str], int] = defaultdict(int)
        self.transfer_seq = 0
        # invariant bookkeeping
        self.ledger_sum: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
        self.entry_ids: set[str] = set()
        self.shown: dict[tuple[Category, str], list[Decimal]] = defaultdict(list)
        self.placed_at: dict[str, int] = {}
        self.terminal: dict[str, int] = defaultdict(int)
        self.fill_sum: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
        opened = [event for name in ACCOUNTS for event in self.engine.open_account(name, D(BALANCES[name]))]
        for name, leverage, mode in (("bob", 50, MarginMode.ISOLATED), ("carol", 25, MarginMode.CROSS)):
            for symbol in ("BTCUSDT", "ETHUSDT"):
                opened.extend(self.engine.handle(SetLeverage(name, symbol, D(leverage), mode)))
        self.check(opened)
        if priced:
            for index in range(len(MARKETS)):
                flat = {"market": index, "move_bp": 0, "spread": (1, 1), "mark_ticks": 0, "dt": 0, "late": False}
                self.check(self._tick({**flat, "sizes": None, "funding": None}))

    # -- the generator's view of prices ---------------------------------------------------------

    def last(self, market: Market) -> Decimal:
        return self.price_ticks[market.key] * market.tick

    def show(self, market: Market, *prices: Decimal) -> None:
        self.shown[market.key].extend(prices)

    def apply(self, spec: dict[str, Any]) -> list[EngineEvent]:
        kind = spec["kind"]
        handler = getattr(self, f"_{kind}")
        events: list[EngineEvent] = handler(spec)
        return events

    def _tick(self, spec: dict[str, Any]) -> list[EngineEvent]:
        market = MARKETS[spec["market"]]
        ticks = self.price_ticks[market.key]
        moved = ticks + ticks * spec["move_bp"] // 10_000
        ticks = max(moved, 1_000)
        self.price_ticks[market.key] = ticks
        tick = market.tick
        below, above = spec["spread"]
        last = ticks * tick
        bid, ask = (ticks - below) * tick, (ticks + above) * tick
        mark = max(ticks + spec["mark_ticks"], 500) * tick if market.category is LINEAR else last
        self.clock.advance(spec["dt"])
        ts = self.clock() - 31_000 if spec["late"] else self.clock()
        extra: dict[str, Any] = {}
        if spec["sizes"] is not None:
            extra["bid_size"] = spec["sizes"][0] * market.qty_unit
            extra["ask_size"] = spec["sizes"][1] * market.qty_unit
        if spec["funding"] is not None and market.category is LINEAR:
            rate_bp, due_in_ms = spec["funding"]
            extra["funding_rate"] = D(rate_bp) / 10_000
            extra["next_funding_time"] = self.clock() + due_in_ms
        ticker = Ticker(market.symbol, last, bid, ask, mark, ts, market.category, **extra)
        self.book_start[market.key] = len(self.shown[market.key])
        self.show(market, last, bid, ask)
        return self.engine.on_ticker(ticker)

    def _trade(self, spec: dict[str, Any]) -> list[EngineEvent]:
        market = MARKETS[spec["market"]]
        price = max(self.price_ticks[market.key] + spec["offset"], 1) * market.tick
        self.clock.advance(100)
        self.show(market, price)
        return self.engine.on_trade(Trade(market.symbol, price, D(1), Side.BUY, self.clock(), category=market.category))

    def _stale(self, spec: dict[str, Any]) -> list[EngineEvent]:
        market = MARKETS[spec["market"]]
        return self.engine.on_feed_status(FeedStatus(market.symbol, True, self.clock(), market.category))

    def _place(self, spec: dict[str, Any]) -> list[EngineEvent]:
        market = MARKETS[spec["market"]]
        linear = market.category is LINEAR
        order_side: Side = spec["side"]
        kind = spec["type"]
        last = self.last(market)
        price = max(self.price_ticks[market.key] + spec["offset"], 1) * market.tick
        fields: dict[str, Any] = {}
        order_type = OrderType.LIMIT
        if kind in ("market", "stop"):
            order_type = OrderType.MARKET
        else:
            fields["price"] = price
        fields["time_in_force"] = {
            "ioc": TimeInForce.IOC,
            "fok": TimeInForce.FOK,
            "post": TimeInForce.POST_ONLY,
        }.get(kind)
        if kind in ("stop", "stop_limit"):
            rises = spec["offset"] >= 0
            fields["trigger_price"] = max(self.price_ticks[market.key] + spec["offset"] + (1 if rises else -1), 1) * (
                market.tick
            )
            fields["trigger_direction"] = TriggerDirection.RISES_TO if rises else TriggerDirection.FALLS_TO
            if spec["by_mark"] and linear:
                fields["trigger_by"] = TriggerBy.MARK_PRICE
        if linear:
            fields["reduce_only"] = spec["reduce_only"]
            if spec["tpsl"] is not None and not spec["reduce_only"]:
                base = fields.get("price") or fields.get("trigger_price") or last
                tp_bp, sl_bp = spec["tpsl"]
                sign = order_side.sign
                fields["take_profit"] = self.offset_bp(market, base, sign * tp_bp)
                fields["stop_loss"] = self.offset_bp(market, base, -sign * sl_bp)
        cmd = PlaceOrder(
            account_id=spec["account"],
            symbol=market.symbol,
            side=order_side,
            order_type=order_type,
            qty=spec["units"] * market.qty_unit,
            category=market.category,
            **fields,
        )
        return self.engine.place(cmd)

    @staticmethod
    def offset_bp(market: Market, base: Decimal, bp: int) -> Decimal:
        moved = base + base * bp / 10_000
        return max((moved / market.tick).to_integral_value() * market.tick, market.tick)

    def _pick(self, spec: dict[str, Any]) -> Any:
        orders = self.engine.open_orders(spec["account"])
        return orders[spec["pick"] % len(orders)] if orders else None

    def _cancel(self, spec: dict[str, Any]) -> list[EngineEvent]:
        order = self._pick(spec)
        if order is None:
            return self.engine.handle(CancelOrder(spec["account"], "missing", "BTCUSDT"))
        return self.engine.handle(CancelOrder(spec["account"], order.order_id, order.symbol, order.category))

    def _amend(self, spec: dict[str, Any]) -> list[EngineEvent]:
        order = self._pick(spec)
        if order is None:
            return []
        market = next(m for m in MARKETS if m.key == (order.category, order.symbol))
        price = None
        if order.order_type is OrderType.LIMIT:
            price = max(self.price_ticks[market.key] + spec["offset"], 1) * market.tick
        qty = None if spec["units"] is None else spec["units"] * market.qty_unit
        return self.engine.handle(
            AmendOrder(order.account_id, order.order_id, order.symbol, order.category, qty=qty, price=price)
        )

    def _leverage(self, spec: dict[str, Any]) -> list[EngineEvent]:
        mode = MarginMode.ISOLATED if spec["isolated"] else MarginMode.CROSS
        return self.engine.handle(SetLeverage(spec["account"], spec["symbol"], D(spec["leverage"]), mode))

    def _transfer(self, spec: dict[str, Any]) -> list[EngineEvent]:
        self.transfer_seq += 1
        return self.engine.handle(Transfer(spec["account"], D(spec["amount"]), f"t-{self.transfer_seq}"))

    def _tpsl(self, spec: dict[str, Any]) -> list[EngineEvent]:
        market = next(m for m in MARKETS if m.key == (LINEAR, spec["symbol"]))
        position = self.engine.position(spec["account"], spec["symbol"])
        sign = position.side.sign if position is not None and position.side is not None else 1
        last = self.last(market)

        def level(bp: int | None, direction: int) -> Decimal | None:
            if bp is None or bp == 0:
                return None if bp is None else D(0)
            return self.offset_bp(market, last, direction * bp)

        return self.engine.handle(
            SetTradingStop(
                spec["account"],
                spec["symbol"],
                take_profit=level(spec["tp_bp"], sign),
                stop_loss=level(spec["sl_bp"], -sign),
            )
        )

    # -- the invariants -------------------------------------------------------------------------

    def check(self, events: list[EngineEvent]) -> None:
        for event in events:
            if isinstance(event, BalanceChanged):
                entry = event.entry
                assert entry.entry_id not in self.entry_ids, f"ledger entry id repeated: {entry}"
                self.entry_ids.add(entry.entry_id)
                self.ledger_sum[(entry.account_id, entry.coin)] += entry.amount
                assert entry.balance_after == self.ledger_sum[(entry.account_id, entry.coin)]
                continue
            if not isinstance(event, OrderAccepted | OrderRejected | OrderTriggered | OrderFilled | OrderCancelled):
                if isinstance(event, OrderAmended):
                    assert self.terminal[event.order.order_id] == 0
                continue
            order = event.order
            order_id = order.order_id
            assert self.terminal[order_id] == 0, f"event after the terminal one for {order_id}: {event}"
            if order_id not in self.placed_at:
                key = (order.category, order.symbol)
                self.placed_at[order_id] = self.book_start[key]
            if isinstance(event, OrderFilled):
                self.check_fill(event)
            ended = isinstance(event, OrderRejected | OrderCancelled) or (
                isinstance(event, OrderFilled) and event.order.status is OrderStatus.FILLED
            )
            if ended:
                assert order.status.is_terminal
                self.terminal[order_id] += 1

        # (a) balances equal the ledger
        for name in ACCOUNTS:
            balances = self.engine.balances(name)
            for (owner, coin), total in self.ledger_sum.items():
                if owner == name:
                    assert balances.get(coin, D(0)) == total, (name, coin, balances, total)
            assert set(balances) <= {coin for owner, coin in self.ledger_sum if owner == name}
            assert balances.get("BTC", D(0)) >= 0, f"{name} sold spot BTC it did not have"
            # (d) positions equal the signed sum of their fills
            for market in MARKETS:
                if market.category is LINEAR:
                    position = self.engine.position(name, market.symbol)
                    size = position.signed_size if position is not None else D(0)
                    assert size == self.fill_sum[(name, market.symbol)], (name, market.symbol, position)
        # (e) an order without a terminal event is open in the engine; one with it is gone
        for order_id, count in self.terminal.items():
            held = self.engine.order(order_id)
            if count:
                assert held is None, f"{order_id} ended but the engine still holds it"
        for order_id in self.placed_at:
            if self.terminal[order_id] == 0:
                held = self.engine.order(order_id)
                assert held is not None, f"{order_id} vanished without a terminal event"
                assert held.status.is_open, f"{order_id} is {held.status} without a terminal event"

    def check_fill(self, event: OrderFilled) -> None:
        execution = event.execution
        market = next(m for m in MARKETS if m.key == (execution.category, execution.symbol))
        price = execution.exec_price
        # (b) on the grid, and within what the market showed since the order was placed
        assert price % market.tick == 0, f"fill off the tick grid: {execution}"
        if execution.exec_type is not ExecType.BUST_TRADE:
            seen = self.shown[market.key][self.placed_at[execution.order_id] :]
            assert seen, f"fill with no price shown: {execution}"
            assert min(seen) <= price <= max(seen), f"fill at {price} outside {min(seen)}..{max(seen)}: {execution}"
        if market.category is not LINEAR:
            return
        key = (execution.account_id, execution.symbol)
        before = self.fill_sum[key]
        after = before + execution.side.sign * execution.exec_qty
        self.fill_sum[key] = after
        # (c) reduce-only never grows or flips a position
        if event.order.reduce_only:
            assert abs(after) < abs(before), f"reduce-only fill grew {before} to {after}"
            assert after == 0 or (after > 0) == (before > 0), f"reduce-only fill flipped {before} to {after}"


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(opening, st.lists(step, min_size=20, max_size=80))
def test_random_sequences_keep_every_invariant(priced: bool, steps: list[dict[str, Any]]) -> None:
    run = Run(priced)
    for spec in steps:
        run.check(run.apply(spec))
