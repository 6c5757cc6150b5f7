"""Applying an execution: the order, the position or spot balances, fees, the ledger, and what follows."""

from __future__ import annotations

from decimal import Decimal

import attrs

from tradesim.domain.engine import bookkeeping, fees, ledger, liquidation, reservations, tpsl
from tradesim.domain.engine.state import AccountState, EngineState, Events, InstrumentState
from tradesim.domain.enums import ExecType, LedgerKind, Side
from tradesim.domain.events import BalanceChanged, OrderFilled, PositionChanged
from tradesim.domain.executions import Execution, derived_id
from tradesim.domain.numbers import ZERO, Price, Quantity
from tradesim.domain.orders import Order


def execute(
    state: EngineState,
    order: Order,
    qty: Decimal,
    price: Decimal,
    *,
    is_maker: bool,
    market: InstrumentState,
    account: AccountState,
    exec_type: ExecType = ExecType.TRADE,
) -> Events:
    """Fill `qty` of `order` at `price` and report everything that changed because of it."""
    instrument = market.instrument
    now = state.clock()
    rate = fees.fee_rate(instrument, is_maker=is_maker, exec_type=exec_type)
    # Named by the order and how much of it had filled before: a redelivered fill keeps its id.
    exec_id = derived_id("exec", order.order_id, order.cum_exec_qty)
    value = qty * price
    balance_events: list[BalanceChanged] = []
    closed = pnl = ZERO
    side_before: Side | None = None
    if instrument.is_linear:
        fee, fee_coin = fees.linear_fee(instrument, value, rate)
        closed, pnl, balance_events, side_before = _settle_linear(state, order, qty, price, fee, exec_id, account)
    else:
        fee, fee_coin = fees.spot_fee(instrument, order.side, qty, value, rate)
        balance_events = _settle_spot(state, order, qty, value, fee, fee_coin, exec_id, account, market)
    filled = order.with_fill(qty, price, fee, now)
    if filled.accepted_time == 0:
        filled = attrs.evolve(filled, accepted_time=now)
    bookkeeping.store(state, filled, account, market)
    reservations.hold_for(state, account, market, filled)
    execution = Execution(
        exec_id=exec_id,
        order_id=order.order_id,
        account_id=order.account_id,
        symbol=order.symbol,
        side=order.side,
        exec_price=Price(price),
        exec_qty=Quantity(qty),
        exec_fee=fee,
        fee_rate=rate,
        is_maker=is_maker,
        exec_time=now,
        order_type=order.order_type,
        category=order.category,
        exec_type=exec_type,
        closed_size=closed,
        exec_pnl=pnl,
        order_link_id=order.order_link_id,
        fee_coin=fee_coin,
    )
    events: Events = [OrderFilled(filled, execution), *balance_events]
    if instrument.is_linear:
        events.extend(_after_position_fill(state, filled, side_before, account, market))
    return events


def _settle_linear(
    state: EngineState, order: Order, qty: Decimal, price: Decimal, fee: Decimal, exec_id: str, account: AccountState
) -> tuple[Decimal, Decimal, list[BalanceChanged], Side | None]:
    position = state.position(account, order.symbol)
    side_before = position.side
    outcome = position.apply_fill(order.side, qty, price, state.clock())
    pnl = outcome.realised_pnl
    coin = state.config.settle_coin
    entries: list[BalanceChanged] = []
    symbol = order.symbol
    if pnl:
        entry_id = derived_id(exec_id, "pnl")
        entries.append(ledger.post(state, account, coin, pnl, LedgerKind.REALISED_PNL, entry_id, exec_id, symbol))
    if fee:
        entry_id = derived_id(exec_id, "fee")
        entries.append(ledger.post(state, account, coin, -fee, LedgerKind.FEE, entry_id, exec_id, symbol))
    account.positions[symbol] = attrs.evolve(outcome.position, cum_realised_pnl=position.cum_realised_pnl + pnl - fee)
    return outcome.closed_qty, pnl, entries, side_before


def _settle_spot(
    state: EngineState,
    order: Order,
    qty: Decimal,
    value: Decimal,
    fee: Decimal,
    fee_coin: str,
    exec_id: str,
    account: AccountState,
    market: InstrumentState,
) -> list[BalanceChanged]:
    """Spot: swap coins; the fee comes out of what the trader receives."""
    instrument = market.instrument
    base, quote = instrument.base_coin, instrument.quote_coin
    received, paid = (base, quote) if order.side is Side.BUY else (quote, base)
    got = qty if order.side is Side.BUY else value
    gave = value if order.side is Side.BUY else qty
    symbol = order.symbol
    entries = [
        ledger.post(state, account, paid, -gave, LedgerKind.TRADE, derived_id(exec_id, "paid"), exec_id, symbol),
        ledger.post(state, account, received, got, LedgerKind.TRADE, derived_id(exec_id, "got"), exec_id, symbol),
    ]
    if fee:
        entry_id = derived_id(exec_id, "fee")
        entries.append(ledger.post(state, account, fee_coin, -fee, LedgerKind.FEE, entry_id, exec_id, symbol))
    return entries


def _after_position_fill(
    state: EngineState, order: Order, side_before: Side | None, account: AccountState, market: InstrumentState
) -> Events:
    """Consequences of a position change: stale TP/SL and reduce-only orders, holds, attached TP/SL, liquidation."""
    events: Events = []
    symbol = order.symbol
    position = account.positions[symbol]
    if position.side is None:
        market.accounts_with_position.discard(account.account_id)
    else:
        market.accounts_with_position.add(account.account_id)
    if side_before is not None and position.side is not side_before:
        events.extend(tpsl.cancel_on_close(state, account, symbol))
    # What the orders against the position hold moved with it.
    account.reservations.reprice(symbol, position.side, position.size)
    attached = order.take_profit is not None or order.stop_loss is not None
    if attached and position.side is order.side and not order.reduce_only:
        events.extend(
            tpsl.set_position_tpsl(
                state, account, market, order.take_profit, order.stop_loss, order.tp_trigger_by, order.sl_trigger_by
            )
        )
    events.extend(liquidation.reprice(state, account, skip=symbol))
    events.append(PositionChanged(account.positions[symbol]))
    return events
