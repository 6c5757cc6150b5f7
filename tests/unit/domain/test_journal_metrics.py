"""Journal statistics: round trips, win rate, R multiples, drawdown, Sharpe, equity curve."""

from __future__ import annotations

from decimal import Decimal

from tradesim.domain import LedgerEntry, LedgerKind, Order, OrderStatus, OrderType, Side
from tradesim.domain.executions import Execution
from tradesim.domain.metrics import DAY_MS, account_stats, closed_trades, max_drawdown, sharpe_ratio

T0 = 1_700_000_000_000


def fill(n: int, side: Side, qty: str, price: str, *, pnl: str = "0", fee: str = "0", order: str = "") -> Execution:
    return Execution(
        exec_id=f"e{n}",
        order_id=order or f"o{n}",
        account_id="a",
        symbol="BTCUSDT",
        side=side,
        exec_price=Decimal(price),
        exec_qty=Decimal(qty),
        exec_fee=Decimal(fee),
        fee_rate=Decimal("0.00055"),
        is_maker=False,
        exec_time=T0 + n,
        order_type=OrderType.MARKET,
        exec_pnl=Decimal(pnl),
    )


def entry(n: int, amount: str, after: str, kind: LedgerKind = LedgerKind.REALISED_PNL, ts: int = 0) -> LedgerEntry:
    return LedgerEntry(f"l{n}", "a", "USDT", Decimal(amount), kind, ts or T0 + n, Decimal(after))


def order(order_id: str, stop_loss: str | None) -> Order:
    return Order(
        order_id=order_id,
        account_id="a",
        symbol="BTCUSDT",
        side=Side.BUY,
        order_type=OrderType.MARKET,
        qty=Decimal("1"),
        status=OrderStatus.FILLED,
        created_time=T0,
        updated_time=T0,
        stop_loss=Decimal(stop_loss) if stop_loss else None,
    )


def test_round_trips_split_a_flip_and_carry_fees() -> None:
    fills = [
        fill(1, Side.BUY, "1", "100", fee="1"),
        fill(2, Side.SELL, "0.5", "110", pnl="5", fee="0.5"),
        # closes the remaining 0.5 long (+5) and opens 1.5 short: the fee splits 1:3
        fill(3, Side.SELL, "2", "110", pnl="5", fee="2"),
        fill(4, Side.BUY, "1.5", "120", pnl="-15", fee="1.5"),
    ]
    first, second = closed_trades(fills, {"o1": order("o1", "90")})
    assert (first.side, first.max_size, first.entry_price) == (Side.BUY, Decimal("1"), Decimal("100"))
    assert first.pnl == Decimal("10") - Decimal("1") - Decimal("0.5") - Decimal("0.5")
    assert first.r_multiple == Decimal("0.8")  # 8 over a risk of (100 - 90) x 1
    assert second.side is Side.SELL
    assert second.pnl == Decimal("-15") - Decimal("1.5") - Decimal("1.5")
    assert second.r_multiple is None, "opened without a stop-loss"


def test_stats_of_an_account() -> None:
    fills = [
        fill(1, Side.BUY, "1", "100", order="win"),
        fill(2, Side.SELL, "1", "110", pnl="10"),
        fill(3, Side.BUY, "1", "100", order="loss"),
        fill(4, Side.SELL, "1", "95", pnl="-5"),
    ]
    ledger = [
        entry(0, "1000", "1000", LedgerKind.TRANSFER),
        entry(2, "10", "1010"),
        entry(4, "-5", "1005"),
    ]
    stats = account_stats(fills, {"win": order("win", "95"), "loss": order("loss", "95")}, ledger)
    assert (stats.trades, stats.wins, stats.losses) == (2, 1, 1)
    assert stats.win_rate == Decimal("0.5")
    assert stats.avg_r_multiple == Decimal("0.5")  # (+2R + -1R) / 2
    assert stats.total_pnl == Decimal("5")
    assert stats.equity_curve == ((T0, Decimal("1000")), (T0 + 2, Decimal("1010")), (T0 + 4, Decimal("1005")))
    assert stats.max_drawdown == Decimal("0.0050")  # 1010 -> 1005
    assert stats.sharpe is None, "one day of history"


def test_deposits_are_not_drawdowns_and_sharpe_needs_days() -> None:
    ledger = [
        entry(0, "1000", "1000", LedgerKind.TRANSFER),
        entry(1, "-100", "900", ts=T0 + 1),
        entry(2, "500", "1400", LedgerKind.TRANSFER, ts=T0 + 2),
        entry(3, "70", "1470", ts=T0 + DAY_MS),
        entry(4, "-14.7", "1455.3", ts=T0 + 2 * DAY_MS),
    ]
    assert max_drawdown(ledger) == Decimal("0.1000")
    sharpe = sharpe_ratio(ledger)
    assert sharpe is not None
    assert sharpe < 0
    assert max_drawdown([]) == 0
    assert sharpe_ratio([]) is None
