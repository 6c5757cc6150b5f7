"""The SMA(10/30)-cross strategy replayed bar by bar through the tradesim matching engine.

Each 1m bar becomes four tickers (`bar_ticks`: open, the two extremes, close) that the engine
sees one at a time, with the replay clock at each ticker's time; a position's stop-loss triggers
on the ticker that reaches it and closes at that ticker's price. At the bar's close the strategy
(`sma_cross`) decides, then places market orders: a reduce-only one to close a position against
the cross, and an entry carrying an attached 2% `stop_loss`.
"""

from __future__ import annotations

import gc
import time
from decimal import Decimal

import attrs

from sma_cross import SmaCross, stop_ticks
from synthetic import IntBars
from tradesim.domain import (
    Candle,
    ManualClock,
    MatchingEngine,
    OrderRejected,
    OrderTriggered,
    OrderType,
    PlaceOrder,
    SequentialIds,
    Side,
    StopOrderType,
    bar_ticks,
    default_catalog,
)

SYMBOL = "BTCUSDT"
ACCOUNT = "sma"


@attrs.frozen
class ReplayResult:
    candles: int
    seconds: float
    cpu_seconds: float
    build_seconds: float
    entries: int
    signal_exits: int
    stop_exits: int
    open_at_end: bool
    final_balance: Decimal
    equity: Decimal
    ticks: int


def build_candles(bars: IntBars, start: int, tick: Decimal) -> list[Candle]:
    """The bars from `start` on as `Candle`s on the instrument's grid (prices cached per tick level)."""
    prices: dict[int, Decimal] = {}

    def price(ticks: int) -> Decimal:
        value = prices.get(ticks)
        if value is None:
            value = prices[ticks] = ticks * tick
        return value

    return [
        Candle(SYMBOL, open_time, price(o), price(h), price(lo), price(c), Decimal(v))
        for open_time, o, h, lo, c, v in bars.rows(start)
    ]


def replay(bars: IntBars, *, warmup: int, qty: Decimal, balance: Decimal) -> ReplayResult:
    """Prime the SMAs on the first `warmup` bars, then replay the rest through the engine, timed."""
    catalog = default_catalog()
    tick = catalog.get(SYMBOL).tick_size
    started = time.perf_counter()
    candles = build_candles(bars, warmup, tick)
    build_seconds = time.perf_counter() - started
    closes = bars.close[warmup:]

    clock = ManualClock(bars.open_time[warmup])
    engine = MatchingEngine(catalog, clock, ids=SequentialIds("sma"))
    engine.open_account(ACCOUNT, balance)
    signal = SmaCross()
    for close in bars.close[:warmup]:
        signal.update(close)

    on_ticker = engine.on_ticker
    place = engine.place
    update = signal.update
    entries = signal_exits = stop_exits = 0
    gc.collect()
    gc.freeze()  # the pre-built candles stand for a data source: keep full collections off them
    cpu_started = time.process_time()
    started = time.perf_counter()
    try:
        for candle, close in zip(candles, closes, strict=True):
            for ticker in bar_ticks(candle):
                clock.now = ticker.ts
                events = on_ticker(ticker)
                if events:
                    for event in events:
                        if isinstance(event, OrderTriggered) and event.order.stop_order_type is StopOrderType.STOP_LOSS:
                            stop_exits += 1
            cross = update(close)
            if not cross:
                continue
            side = Side.BUY if cross > 0 else Side.SELL
            position = engine.position(ACCOUNT, SYMBOL)
            if position is not None and position.side is side.opposite:
                _check(place(PlaceOrder(ACCOUNT, SYMBOL, side, OrderType.MARKET, position.size, reduce_only=True)))
                signal_exits += 1
            stop = stop_ticks(close, cross) * tick
            _check(place(PlaceOrder(ACCOUNT, SYMBOL, side, OrderType.MARKET, qty, stop_loss=stop)))
            entries += 1
        seconds = time.perf_counter() - started
        cpu_seconds = time.process_time() - cpu_started
    finally:
        gc.unfreeze()
    position = engine.position(ACCOUNT, SYMBOL)
    return ReplayResult(
        candles=len(candles),
        seconds=seconds,
        cpu_seconds=cpu_seconds,
        build_seconds=build_seconds,
        entries=entries,
        signal_exits=signal_exits,
        stop_exits=stop_exits,
        open_at_end=position is not None and position.side is not None,
        final_balance=engine.balances(ACCOUNT)["USDT"],
        equity=engine.account_view(ACCOUNT).equity,
        ticks=4 * len(candles),
    )


def _check(events: list[object]) -> None:
    for event in events:
        if isinstance(event, OrderRejected):
            raise RuntimeError(f"the engine refused a strategy order: {event.error}")
