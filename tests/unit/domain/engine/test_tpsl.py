"""A position's take-profit and stop-loss."""

from decimal import Decimal

from tests.unit.domain.conftest import Sim, fills, of_type, one
from tradesim.domain import (
    CancelOrder,
    CancelReason,
    CommandRejected,
    CreateType,
    OrderAccepted,
    OrderAmended,
    OrderCancelled,
    OrderFilled,
    OrderStatus,
    OrderTriggered,
    PositionChanged,
    SetTradingStop,
    Side,
    StopOrderType,
    TriggerBy,
    TriggerDirection,
)
from tradesim.domain.errors import (
    InvalidTpSl,
)

D = Decimal
RISES = TriggerDirection.RISES_TO
FALLS = TriggerDirection.FALLS_TO


def open_long_with_tpsl(sim: Sim) -> tuple[str, str]:
    sim.tick("30000", bid="29999.9", ask="30000.1")
    events = sim.buy("0.01", take_profit="31000", stop_loss="29000")
    created = {e.order.stop_order_type: e.order for e in of_type(events, OrderAccepted) if e.order.is_position_tpsl}
    tp, sl = created[StopOrderType.TAKE_PROFIT], created[StopOrderType.STOP_LOSS]
    return tp.order_id, sl.order_id


def test_attached_tp_sl_become_the_positions_full_size_reduce_only_stops(sim: Sim) -> None:
    tp_id, sl_id = open_long_with_tpsl(sim)
    position = sim.position()
    assert (position.take_profit, position.stop_loss) == (D(31000), D(29000))
    tp, sl = sim.engine.order(tp_id), sim.engine.order(sl_id)
    assert tp is not None
    assert sl is not None
    assert (tp.side, tp.trigger_direction, tp.trigger_price, tp.reduce_only) == (Side.SELL, RISES, D(31000), True)
    assert (sl.side, sl.trigger_direction, sl.trigger_price) == (Side.SELL, FALLS, D(29000))
    assert (tp.create_type, sl.create_type) == (CreateType.BY_TAKE_PROFIT, CreateType.BY_STOP_LOSS)
    assert tp.status is sl.status is OrderStatus.UNTRIGGERED


def test_the_take_profit_closes_the_position_and_deactivates_the_stop_loss(sim: Sim) -> None:
    tp_id, sl_id = open_long_with_tpsl(sim)
    sim.buy("0.01")  # the position grows to 0.02 after the TP/SL were set: they still close all of it
    sim.advance(1000)
    events = sim.tick("31000", bid="30999.9", ask="31000.1")
    assert one(events, OrderTriggered).order.order_id == tp_id
    (fill,) = fills(events)
    assert (fill.order_id, fill.exec_qty, fill.exec_price) == (tp_id, D("0.02"), D("30999.9"))
    filled = one(events, OrderFilled).order
    assert (filled.create_type, filled.status) == (CreateType.BY_TAKE_PROFIT, OrderStatus.FILLED)
    # Entry 2 x 300.001 = 600.002, exit 0.02 x 30,999.9 = 619.998: PnL +19.996.
    assert fill.exec_pnl == D("19.996")
    deactivated = one(events, OrderCancelled)
    assert (deactivated.order.order_id, deactivated.order.status) == (sl_id, OrderStatus.DEACTIVATED)
    assert deactivated.reason is CancelReason.POSITION_CLOSED
    position = sim.position()
    assert (position.size, position.take_profit, position.stop_loss) == (0, None, None)
    assert sim.engine.open_orders() == []


def test_the_stop_loss_by_mark_price(sim: Sim) -> None:
    sim.tick("30000", bid="29999.9", ask="30000.1")
    sim.sell("0.01", stop_loss="30500", sl_trigger_by=TriggerBy.MARK_PRICE)
    assert sim.position().sl_trigger_by is TriggerBy.MARK_PRICE
    sim.advance(1000)
    assert fills(sim.tick("30600", bid="30599.9", ask="30600.1", mark="30400")) == []
    sim.advance(1000)
    (fill,) = fills(sim.tick("30450", bid="30449.9", ask="30450.1", mark="30500"))
    # The short's stop buys back at the ask: loss 0.01 x (29,999.9 - 30,450.1) = -4.502.
    assert (fill.side, fill.exec_price, fill.exec_pnl) == (Side.BUY, D("30450.1"), D("-4.502"))


def test_closing_the_position_by_hand_deactivates_tp_and_sl(sim: Sim) -> None:
    tp_id, sl_id = open_long_with_tpsl(sim)
    events = sim.sell("0.01")
    reasons = {e.order.order_id: (e.reason, e.order.status) for e in of_type(events, OrderCancelled)}
    assert reasons == {
        tp_id: (CancelReason.POSITION_CLOSED, OrderStatus.DEACTIVATED),
        sl_id: (CancelReason.POSITION_CLOSED, OrderStatus.DEACTIVATED),
    }
    assert sim.engine.open_orders() == []


def test_trading_stop_sets_moves_and_clears_the_positions_tp_sl(sim: Sim) -> None:
    sim.tick("30000", bid="29999.9", ask="30000.1")
    sim.buy("0.01")
    # Set: a new untriggered take-profit order.
    events = sim.handle(SetTradingStop("acc", "BTCUSDT", take_profit=D(31000)))
    tp = one(events, OrderAccepted).order
    assert (tp.stop_order_type, tp.trigger_price, tp.status) == (
        StopOrderType.TAKE_PROFIT,
        D(31000),
        OrderStatus.UNTRIGGERED,
    )
    assert one(events, PositionChanged).position.take_profit == D(31000)
    # Move: the same order, re-priced.
    events = sim.handle(SetTradingStop("acc", "BTCUSDT", take_profit=D(32000), stop_loss=D(29000)))
    moved = one(events, OrderAmended).order
    assert (moved.order_id, moved.trigger_price) == (tp.order_id, D(32000))
    position = one(events, PositionChanged).position
    assert (position.take_profit, position.stop_loss) == (D(32000), D(29000))
    sim.advance(1000)
    assert fills(sim.tick("31000")) == []  # the old level no longer triggers
    # Clear with zero: the take-profit goes, the stop-loss stays.
    events = sim.handle(SetTradingStop("acc", "BTCUSDT", take_profit=D(0)))
    cleared = one(events, OrderCancelled)
    assert (cleared.order.order_id, cleared.order.status) == (tp.order_id, OrderStatus.DEACTIVATED)
    position = one(events, PositionChanged).position
    assert (position.take_profit, position.stop_loss) == (None, D(29000))
    assert [o.stop_order_type for o in sim.engine.open_orders()] == [StopOrderType.STOP_LOSS]


def test_trading_stop_rules(sim: Sim) -> None:
    sim.tick("30000", bid="29999.9", ask="30000.1")
    rejected = one(sim.handle(SetTradingStop("acc", "BTCUSDT", take_profit=D(31000))), CommandRejected)
    assert isinstance(rejected.error, InvalidTpSl)
    assert rejected.error.message == "there is no open BTCUSDT position to set take-profit / stop-loss on"
    sim.buy("0.01")
    rejected = one(sim.handle(SetTradingStop("acc", "BTCUSDT", take_profit=D(29000))), CommandRejected)
    assert rejected.error.message == "takeProfit 29000 must be above 30000 for a long"
    assert sim.position().take_profit is None


def test_cancelling_a_tp_order_clears_it_from_the_position(sim: Sim) -> None:

    tp_id, _ = open_long_with_tpsl(sim)
    events = sim.handle(CancelOrder("acc", tp_id, "BTCUSDT"))
    assert one(events, OrderCancelled).order.status is OrderStatus.DEACTIVATED
    assert one(events, PositionChanged).position.take_profit is None
    assert sim.position().stop_loss == D(29000)


def test_a_short_with_tpsl_flipped_long_loses_them(sim: Sim) -> None:
    sim.tick("30000", bid="29999.9", ask="30000.1")
    sim.sell("0.01", take_profit="29000", stop_loss="31000")
    events = sim.buy("0.03")
    assert len(of_type(events, OrderCancelled)) == 2
    position = sim.position()
    assert (position.side, position.size, position.take_profit, position.stop_loss) == (
        Side.BUY,
        D("0.02"),
        None,
        None,
    )
