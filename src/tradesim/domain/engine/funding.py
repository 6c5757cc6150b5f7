"""Funding: every open position pays (long, positive rate) or receives size x mark x rate, once per funding time.

The ticker announces the rate and the next funding time; when a ticker's time passes it, funding is
settled at that ticker's mark, even if the ticker is too old to trade on. `SettleFunding` settles
one explicitly.
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from tradesim.domain.commands import SettleFunding
from tradesim.domain.engine import ledger, liquidation
from tradesim.domain.engine.state import EngineState, Events, InstrumentState
from tradesim.domain.enums import Category, LedgerKind
from tradesim.domain.events import PositionChanged
from tradesim.domain.executions import derived_id
from tradesim.domain.market import Ticker
from tradesim.domain.numbers import to_decimal


def on_ticker(state: EngineState, market: InstrumentState, ticker: Ticker) -> Events:
    """Settle the funding the ticker's time has passed, then remember what it announces."""
    due_at = market.next_funding_time
    if due_at is None and ticker.funding_rate is None and ticker.next_funding_time is None:
        return []  # nothing announced, nothing to remember: most tickers of most feeds
    if due_at is None or ticker.ts < due_at or due_at <= market.funding_settled_at:
        _remember(market, ticker)
        return []
    rate = market.funding_rate
    market.funding_settled_at = due_at
    _remember(market, ticker)
    if rate is None:
        return []
    return settle(state, market, rate, ticker.mark_price, due_at)


def settle_command(state: EngineState, cmd: SettleFunding) -> Events:
    market = state.instruments.get((Category.LINEAR, cmd.symbol))
    if market is None or cmd.funding_time <= market.funding_settled_at:
        return []
    market.funding_settled_at = cmd.funding_time
    return settle(
        state, market, to_decimal(cmd.rate, "rate"), to_decimal(cmd.mark_price, "markPrice"), cmd.funding_time
    )


def settle(state: EngineState, market: InstrumentState, rate: Decimal, mark: Decimal, funding_time: int) -> Events:
    """Longs pay shorts size x mark x rate when the rate is positive (and the reverse when negative)."""
    events: Events = []
    symbol = market.instrument.symbol
    coin = state.config.settle_coin
    for account_id in sorted(market.accounts_with_position):
        account = state.accounts[account_id]
        position = account.positions[symbol]
        if position.side is None:
            continue
        amount = -position.signed_size * mark * rate
        if not amount:
            continue
        entry_id = derived_id("funding", account_id, symbol, funding_time)
        events.append(ledger.post(state, account, coin, amount, LedgerKind.FUNDING, entry_id, entry_id, symbol))
        account.positions[symbol] = attrs.evolve(
            position, cum_realised_pnl=position.cum_realised_pnl + amount, updated_time=state.clock()
        )
        events.extend(liquidation.reprice(state, account, skip=symbol))
        events.append(PositionChanged(account.positions[symbol]))
    return events


def _remember(market: InstrumentState, ticker: Ticker) -> None:
    """Keep the announced rate and next funding time; a time already settled is never taken again."""
    if ticker.funding_rate is not None:
        market.funding_rate = ticker.funding_rate
    upcoming = ticker.next_funding_time
    if upcoming is not None and upcoming > market.funding_settled_at:
        market.next_funding_time = upcoming
    elif market.next_funding_time is not None and market.next_funding_time <= market.funding_settled_at:
        market.next_funding_time = None
