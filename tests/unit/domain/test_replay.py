"""Bar Replay: how a candle becomes ticks, the same-bar stop-loss / take-profit rule, and determinism
on a month of real 1m candles."""

import csv
import random
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from tests.unit.domain.conftest import Sim, btc_linear, fills, of_type, one
from tradesim.domain import (
    CancelOrder,
    Candle,
    EngineEvent,
    ExecType,
    InstrumentCatalog,
    MarginMode,
    MatchingEngine,
    OrderAccepted,
    OrderCancelled,
    OrderFilled,
    OrderStatus,
    OrderType,
    PlaceOrder,
    SetLeverage,
    SetTradingStop,
    Side,
    StopOrderType,
    TriggerDirection,
    bar_path,
    bar_ticks,
)
from tradesim.domain.replay import ManualClock

D = Decimal
MINUTE = 60_000
REPO_ROOT = Path(__file__).resolve().parents[3]
MONTH_CSV = REPO_ROOT.parent / "shared" / "data" / "candles" / "nautilus" / "btc-perp-20211231-20220201_1m.csv"


def bar(open_: str, high: str, low: str, close: str, open_time: int = 0) -> Candle:
    return Candle("BTCUSDT", open_time, D(open_), D(high), D(low), D(close), D(1))


# -- the tick path ------------------------------------------------------------------------------


def test_a_bullish_bar_visits_its_low_before_its_high() -> None:
    assert bar_path(bar("100", "110", "95", "105")) == (D(100), D(95), D(110), D(105))
    # A flat bar (close == open) counts as bullish.
    assert bar_path(bar("100", "110", "95", "100")) == (D(100), D(95), D(110), D(100))


def test_a_bearish_bar_visits_its_high_before_its_low() -> None:
    assert bar_path(bar("100", "110", "95", "97")) == (D(100), D(110), D(95), D(97))


def test_bar_ticks_are_zero_spread_tickers_spread_over_the_minute() -> None:
    ticks = bar_ticks(bar("100", "110", "95", "105", open_time=1_640_995_200_000))
    # open at 0, first extreme at 15 s, second at 30 s, close at the bar's last millisecond.
    assert [t.ts - 1_640_995_200_000 for t in ticks] == [0, 15_000, 30_000, 59_999]
    assert [t.last_price for t in ticks] == [D(100), D(95), D(110), D(105)]
    for tick in ticks:
        assert tick.bid_price == tick.ask_price == tick.mark_price == tick.last_price


def replay(sim: Sim, candle: Candle) -> list[EngineEvent]:
    events: list[EngineEvent] = []
    for tick in bar_ticks(candle):
        sim.clock.set(tick.ts)
        events.extend(sim.engine.on_ticker(tick))
    return events


def long_with_tp_and_sl() -> Sim:
    sim = Sim()
    sim.open()
    replay(sim, bar("30000", "30000", "30000", "30000", open_time=sim.clock()))
    sim.buy("0.01", take_profit="30500", stop_loss="29500")
    assert sim.position().avg_price == D(30000)
    return sim


def test_same_bar_rule_a_bullish_bar_hits_a_longs_stop_loss_first() -> None:
    sim = long_with_tp_and_sl()
    # open 30,000 -> low 29,400 -> high 30,600 -> close 30,100: the stop-loss at 29,500 goes first.
    events = replay(sim, bar("30000", "30600", "29400", "30100", open_time=sim.clock() + 1))
    (fill,) = fills(events)
    assert one(events, OrderFilled).order.stop_order_type is StopOrderType.STOP_LOSS
    # Zero-spread ticks: the stop sells at the path price itself, 29,400 (it gapped past 29,500).
    # PnL 0.01 x (29,400 - 30,000) = -6.
    assert (fill.exec_price, fill.exec_pnl) == (D(29400), D(-6))
    assert one(events, OrderCancelled).order.stop_order_type is StopOrderType.TAKE_PROFIT
    assert sim.position().size == 0


def test_same_bar_rule_a_bearish_bar_hits_a_longs_take_profit_first() -> None:
    sim = long_with_tp_and_sl()
    # open 30,000 -> high 30,600 -> low 29,400 -> close 29,900: the take-profit at 30,500 goes first.
    events = replay(sim, bar("30000", "30600", "29400", "29900", open_time=sim.clock() + 1))
    (fill,) = fills(events)
    assert one(events, OrderFilled).order.stop_order_type is StopOrderType.TAKE_PROFIT
    assert (fill.exec_price, fill.exec_pnl) == (D(30600), D(6))
    assert one(events, OrderCancelled).order.stop_order_type is StopOrderType.STOP_LOSS


def test_same_bar_rule_a_bearish_bar_hits_a_shorts_stop_loss_first() -> None:
    sim = Sim()
    sim.open()
    replay(sim, bar("30000", "30000", "30000", "30000", open_time=sim.clock()))
    sim.sell("0.01", take_profit="29500", stop_loss="30500")
    events = replay(sim, bar("30000", "30600", "29400", "29900", open_time=sim.clock() + 1))
    assert one(events, OrderFilled).order.stop_order_type is StopOrderType.STOP_LOSS
    assert fills(events)[0].exec_price == D(30600)


def test_the_same_bar_resolves_the_same_way_every_time() -> None:
    outcomes = set()
    for _ in range(3):
        sim = long_with_tp_and_sl()
        events = replay(sim, bar("30000", "30600", "29400", "30100", open_time=sim.clock() + 1))
        outcomes.add(tuple((f.order_id, f.exec_price) for f in fills(events)))
    assert len(outcomes) == 1


# -- determinism on a month of real candles -----------------------------------------------------


def load_month(path: Path) -> list[Candle]:
    candles = []
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            opened = datetime.fromisoformat(row["timestamp"]).replace(tzinfo=UTC)
            candles.append(
                Candle(
                    symbol="BTCUSDT",
                    open_time=int(opened.timestamp()) * 1000,
                    open=D(row["open"]),
                    high=D(row["high"]),
                    low=D(row["low"]),
                    close=D(row["close"]),
                    volume=D(row["volume"]),
                )
            )
    return candles


# The file's venue quotes in eighths of a dollar (46821.75, 46810.125...), off Bybit's 0.1 grid, so
# the replay runs on a BTCUSDT with a 0.125 tick; everything else is the bundled instrument.
TICK = D("0.125")
ACCOUNTS = {
    # account: (balance, leverage, margin mode) - the last one is small and highly levered, to be liquidated.
    "cross10": ("20000", D(10), MarginMode.CROSS),
    "iso25": ("5000", D(25), MarginMode.ISOLATED),
    "iso100": ("300", D(100), MarginMode.ISOLATED),
}


def on_tick(price: Decimal, ticks: int) -> Decimal:
    return (price + ticks * TICK).quantize(TICK)


def workload_step(rng: random.Random, engine: MatchingEngine, account: str, close: Decimal) -> list[EngineEvent]:
    """One random trader action near the current close."""
    side = rng.choice((Side.BUY, Side.SELL))
    qty = D(rng.choice(("0.001", "0.002", "0.005", "0.01")))
    action = rng.random()
    away = rng.randint(8, 800)  # 1 to 100 dollars
    if action < 0.25:
        return engine.place(PlaceOrder(account, "BTCUSDT", side, OrderType.MARKET, qty))
    if action < 0.5:
        price = on_tick(close, -away if side is Side.BUY else away)
        return engine.place(PlaceOrder(account, "BTCUSDT", side, OrderType.LIMIT, qty, price=price))
    if action < 0.65:
        direction = TriggerDirection.RISES_TO if side is Side.BUY else TriggerDirection.FALLS_TO
        trigger = on_tick(close, away if side is Side.BUY else -away)
        return engine.place(
            PlaceOrder(
                account, "BTCUSDT", side, OrderType.MARKET, qty, trigger_price=trigger, trigger_direction=direction
            )
        )
    if action < 0.8:
        sign = side.sign
        return engine.place(
            PlaceOrder(
                account,
                "BTCUSDT",
                side,
                OrderType.MARKET,
                qty,
                take_profit=on_tick(close, sign * 4 * away),
                stop_loss=on_tick(close, -sign * 2 * away),
            )
        )
    if action < 0.9:
        position = engine.position(account, "BTCUSDT")
        if position is None or position.side is None:
            return []
        sign = position.side.sign
        return engine.handle(
            SetTradingStop(account, "BTCUSDT", take_profit=on_tick(close, sign * 3 * away), stop_loss=D(0))
        )
    orders = [o for o in engine.open_orders(account) if not o.is_position_tpsl]
    if not orders:
        return []
    victim = rng.choice(orders)
    return engine.handle(CancelOrder(account, victim.order_id, "BTCUSDT"))


def run_month(candles: list[Candle], seed: int) -> list[EngineEvent]:
    rng = random.Random(seed)
    clock = ManualClock(candles[0].open_time)
    engine = MatchingEngine(InstrumentCatalog([btc_linear(tick_size=str(TICK))]), clock)
    events: list[EngineEvent] = []
    for account, (balance, leverage, mode) in ACCOUNTS.items():
        events.extend(engine.open_account(account, D(balance)))
        events.extend(engine.handle(SetLeverage(account, "BTCUSDT", leverage, mode)))
    for candle in candles:
        for tick in bar_ticks(candle):
            clock.set(tick.ts)
            events.extend(engine.on_ticker(tick))
        # Between bars (at the close), each account acts now and then.
        for account in ACCOUNTS:
            if rng.random() < 0.08:
                events.extend(workload_step(rng, engine, account, candle.close))
    return events


@pytest.mark.skipif(not MONTH_CSV.is_file(), reason=f"the month of real 1m candles is not at {MONTH_CSV}")
def test_a_month_of_real_candles_replays_to_identical_events() -> None:
    candles = load_month(MONTH_CSV)
    # The whole file: 2021-12-31 23:01 to 2022-02-01 05:31 UTC, 45,031 bars, 180,124 ticks per run
    # (about 2 s per run here). With seed 20220101 the workload makes ~44,000 events: ~8,100 fills,
    # ~2,300 triggers, ~140 liquidations (mostly of the 100x account), ~800 margin rejections.
    assert len(candles) == 45_031
    first = run_month(candles, seed=20220101)
    second = run_month(candles, seed=20220101)
    assert first == second

    executions = [e.execution for e in of_type(first, OrderFilled)]
    accepted = of_type(first, OrderAccepted)
    assert len(executions) > 3_000
    assert {e.account_id for e in executions} == set(ACCOUNTS)
    assert any(e.exec_type is ExecType.BUST_TRADE for e in executions), "the 100x account should be liquidated"
    assert any(e.is_maker for e in executions)
    assert any(a.order.stop_order_type is StopOrderType.TAKE_PROFIT for a in accepted)
    assert all(e.exec_price % TICK == 0 for e in executions)
    assert any(e.order.status is OrderStatus.DEACTIVATED for e in of_type(first, OrderCancelled))
