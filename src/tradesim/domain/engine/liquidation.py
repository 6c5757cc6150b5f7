"""Liquidation: each position's liquidation and bankruptcy prices, re-pricing them, and the bankruptcy fill.

A cross position's prices assume it may use the whole free balance (wallet less the initial margin
of positions and open orders), so they are recomputed at the end of any command or price update
that changed the balance or the margin the account's orders hold; isolated ones move only with
their own fills. When the mark price reaches a position's liquidation price, the symbol's open
orders are cancelled and the position closes at its bankruptcy price with no fee, so an isolated
position never loses more than its margin.
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from tradesim.domain.engine import bookkeeping, fills
from tradesim.domain.engine.made_orders import engine_order
from tradesim.domain.engine.state import AccountState, EngineState, Events, InstrumentState
from tradesim.domain.enums import CancelReason, Category, CreateType, ExecType, MarginMode
from tradesim.domain.events import OrderAccepted, PositionChanged
from tradesim.domain.margin import liquidation_prices
from tradesim.domain.numbers import ZERO


def reprice_accounts(state: EngineState) -> Events:
    """Recompute the liquidation prices of the accounts whose free balance changed since the last time."""
    if not state.accounts_to_reprice:
        return []
    events: Events = []
    for account_id in sorted(state.accounts_to_reprice):
        account = state.accounts[account_id]
        if any(p.side is not None and p.margin_mode is MarginMode.CROSS for p in account.positions.values()):
            events.extend(reprice(state, account))
    state.accounts_to_reprice.clear()
    return events


def reprice(state: EngineState, account: AccountState, skip: str = "") -> Events:
    """Recompute the liquidation prices of the account's open positions and re-index them.

    Returns events for positions other than `skip` (the caller reports that one itself).
    """
    events: Events = []
    settle = state.config.settle_coin
    total_im = sum((p.position_margin for p in account.positions.values() if p.size), ZERO)
    free = max(account.balance(settle) - total_im - account.reserved_in(settle), ZERO)
    for symbol, position in account.positions.items():
        market = state.instruments.get((Category.LINEAR, symbol))
        if market is None:
            continue
        liq: Decimal | None = None
        bust: Decimal | None = None
        if position.side is not None:
            margin = position.position_margin + (free if position.margin_mode is MarginMode.CROSS else ZERO)
            liq, bust = liquidation_prices(
                position.side,
                position.size,
                position.entry_value,
                margin,
                market.instrument.maintenance_margin_rate,
                market.instrument.tick_size,
            )
        if liq != position.liq_price or bust != position.bust_price:
            position = attrs.evolve(position, liq_price=liq, bust_price=bust)
            account.positions[symbol] = position
            if symbol != skip:
                events.append(PositionChanged(position))
            market.index_liquidation(account.account_id, position.side, liq, state.next_seq())
    # Its prices are current now: the end of the event need not compute them again unless
    # something moves its balance or held margin meanwhile (which marks it again).
    state.accounts_to_reprice.discard(account.account_id)
    return events


def liquidate(state: EngineState, account_id: str, market: InstrumentState) -> Events:
    """Mark price reached the liquidation price: cancel the symbol's orders, close at bankruptcy."""
    account = state.accounts.get(account_id)
    symbol = market.instrument.symbol
    if account is None:
        return []
    position = account.positions.get(symbol)
    if position is None or position.side is None or position.bust_price is None:
        return []
    events: Events = []
    for order_id in account.orders_on(Category.LINEAR, symbol):
        events.extend(bookkeeping.cancel(state, state.orders[order_id], CancelReason.LIQUIDATION))
    position = account.positions[symbol]
    assert position.side is not None
    assert position.bust_price is not None
    order = engine_order(
        state.ids(),
        account_id,
        symbol,
        position.side.opposite,
        position.size,
        state.clock(),
        CreateType.BY_LIQUIDATION,
    )
    events.append(OrderAccepted(order))
    events.extend(
        fills.execute(
            state,
            order,
            position.size,
            position.bust_price,
            is_maker=False,
            market=market,
            account=account,
            exec_type=ExecType.BUST_TRADE,
        )
    )
    return events
