"""Trading statistics of one account for the journal, from its executions, orders and ledger.

- A *trade* is a round trip on one symbol: it opens when the position leaves zero and closes when
  it returns to zero. A fill that flips the position closes one trade and opens the next; its fee
  is split between them by quantity. A trade's PnL is its realised price PnL minus its fees.
- Win rate: winning closed trades (PnL > 0) over closed trades.
- R multiple of a trade: its PnL over the risk taken at entry, |entry price - stop-loss| x size,
  where the stop-loss is the one attached to the order that opened the trade; trades opened
  without a stop-loss have none. Average R: the mean over the trades that have one.
- Equity curve: the wallet balance after every ledger entry, in time order.
- Max drawdown: the largest fall from a peak of the performance index, which compounds the
  return of every non-transfer ledger entry (so deposits and withdrawals are not gains or losses),
  as a fraction of the peak.
- Sharpe ratio: mean over standard deviation of daily returns (UTC days from the first to the
  last ledger day, days without activity count as zero), annualised by sqrt(365) since crypto
  trades every day; none with fewer than two days or no variation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Final

import attrs

from tradesim.domain.enums import LedgerKind, Side
from tradesim.domain.executions import Execution, LedgerEntry
from tradesim.domain.numbers import ZERO, round_money
from tradesim.domain.orders import Order

DAY_MS: Final = 86_400_000
RATIO_QUANTUM: Final = Decimal("0.0001")


@attrs.frozen(slots=True)
class ClosedTrade:
    symbol: str
    side: Side
    opened_at: int
    closed_at: int
    max_size: Decimal
    entry_price: Decimal
    pnl: Decimal
    r_multiple: Decimal | None


@attrs.frozen(slots=True)
class AccountStats:
    trades: int
    wins: int
    losses: int
    win_rate: Decimal | None
    avg_r_multiple: Decimal | None
    total_pnl: Decimal
    max_drawdown: Decimal
    sharpe: Decimal | None
    equity_curve: tuple[tuple[int, Decimal], ...]


@attrs.define
class _Open:
    side: Side
    opened_at: int
    size: Decimal = ZERO
    max_size: Decimal = ZERO
    entry_value: Decimal = ZERO
    entry_qty: Decimal = ZERO
    pnl: Decimal = ZERO
    stop_loss: Decimal | None = None


def closed_trades(executions: Iterable[Execution], orders: Mapping[str, Order]) -> list[ClosedTrade]:
    """Round trips per symbol, in the order they closed (see the module docstring).

    Inputs are in the order they happened; records of the same millisecond keep that order.
    """
    open_trades: dict[str, _Open] = {}
    closed: list[ClosedTrade] = []
    for fill in sorted(executions, key=lambda e: e.exec_time):
        if not fill.exec_qty:
            continue
        qty = fill.exec_qty
        trade = open_trades.get(fill.symbol)
        closing = ZERO if trade is None or trade.side is fill.side else min(qty, trade.size)
        opening = qty - closing
        if trade is not None and closing:
            trade.pnl += fill.exec_pnl - fill.exec_fee * closing / qty
            trade.size -= closing
            if not trade.size:
                closed.append(_close(fill.symbol, trade, fill.exec_time))
                del open_trades[fill.symbol]
                trade = None
        if opening:
            if trade is None:
                order = orders.get(fill.order_id)
                trade = _Open(side=fill.side, opened_at=fill.exec_time)
                trade.stop_loss = order.stop_loss if order is not None else None
                open_trades[fill.symbol] = trade
            trade.size += opening
            trade.max_size = max(trade.max_size, trade.size)
            trade.entry_value += opening * fill.exec_price
            trade.entry_qty += opening
            trade.pnl -= fill.exec_fee * opening / qty
    return closed


def _close(symbol: str, trade: _Open, ts: int) -> ClosedTrade:
    entry = trade.entry_value / trade.entry_qty
    pnl = round_money(trade.pnl)
    r_multiple = None
    if trade.stop_loss is not None and trade.stop_loss != entry:
        risk = abs(entry - trade.stop_loss) * trade.max_size
        r_multiple = (pnl / risk).quantize(RATIO_QUANTUM)
    return ClosedTrade(symbol, trade.side, trade.opened_at, ts, trade.max_size, round_money(entry), pnl, r_multiple)


def equity_curve(ledger: Iterable[LedgerEntry], coin: str = "USDT") -> list[tuple[int, Decimal]]:
    entries = sorted((e for e in ledger if e.coin == coin), key=lambda e: e.ts)
    return [(e.ts, e.balance_after) for e in entries]


def _returns(ledger: list[LedgerEntry]) -> list[tuple[int, Decimal]]:
    """(ts, return) of every non-transfer entry: its amount over the balance before it."""
    found: list[tuple[int, Decimal]] = []
    for entry in ledger:
        before = entry.balance_after - entry.amount
        if entry.kind is LedgerKind.TRANSFER or before <= 0:
            continue
        found.append((entry.ts, entry.amount / before))
    return found


def max_drawdown(ledger: Iterable[LedgerEntry], coin: str = "USDT") -> Decimal:
    entries = sorted((e for e in ledger if e.coin == coin), key=lambda e: e.ts)
    index = peak = Decimal(1)
    worst = ZERO
    for _, change in _returns(entries):
        index *= 1 + change
        peak = max(peak, index)
        worst = max(worst, (peak - index) / peak)
    return worst.quantize(RATIO_QUANTUM)


def sharpe_ratio(ledger: Iterable[LedgerEntry], coin: str = "USDT") -> Decimal | None:
    entries = sorted((e for e in ledger if e.coin == coin), key=lambda e: e.ts)
    if not entries:
        return None
    first_day, last_day = entries[0].ts // DAY_MS, entries[-1].ts // DAY_MS
    growth = {day: Decimal(1) for day in range(first_day, last_day + 1)}
    for ts, change in _returns(entries):
        growth[ts // DAY_MS] *= 1 + change
    daily = [g - 1 for g in growth.values()]
    if len(daily) < 2:
        return None
    mean = sum(daily, ZERO) / len(daily)
    variance = sum(((r - mean) ** 2 for r in daily), ZERO) / (len(daily) - 1)
    if not variance:
        return None
    return (mean / variance.sqrt() * Decimal(365).sqrt()).quantize(RATIO_QUANTUM)


def account_stats(
    executions: Iterable[Execution],
    orders: Mapping[str, Order],
    ledger: Iterable[LedgerEntry],
    *,
    coin: str = "USDT",
) -> AccountStats:
    entries = list(ledger)
    trades = closed_trades(executions, orders)
    wins = sum(1 for t in trades if t.pnl > 0)
    r_values = [t.r_multiple for t in trades if t.r_multiple is not None]
    return AccountStats(
        trades=len(trades),
        wins=wins,
        losses=sum(1 for t in trades if t.pnl < 0),
        win_rate=(Decimal(wins) / len(trades)).quantize(RATIO_QUANTUM) if trades else None,
        avg_r_multiple=(sum(r_values, ZERO) / len(r_values)).quantize(RATIO_QUANTUM) if r_values else None,
        total_pnl=sum((t.pnl for t in trades), ZERO),
        max_drawdown=max_drawdown(entries, coin),
        sharpe=sharpe_ratio(entries, coin),
        equity_curve=tuple(equity_curve(entries, coin)),
    )
