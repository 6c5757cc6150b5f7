"""Balances change only here, each change a ledger entry: a fill's PnL and fee, funding, a transfer."""

from __future__ import annotations

from decimal import Decimal

from tradesim.domain.engine.state import AccountState, EngineState
from tradesim.domain.enums import LedgerKind
from tradesim.domain.events import BalanceChanged
from tradesim.domain.executions import LedgerEntry


def post(
    state: EngineState,
    account: AccountState,
    coin: str,
    amount: Decimal,
    kind: LedgerKind,
    entry_id: str,
    ref: str,
    symbol: str,
) -> BalanceChanged:
    """Apply one ledger entry to a balance, so the balance always equals the sum of its ledger."""
    after = account.balance(coin) + amount
    account.balances[coin] = after
    state.accounts_to_reprice.add(account.account_id)
    entry = LedgerEntry(
        entry_id=entry_id,
        account_id=account.account_id,
        coin=coin,
        amount=amount,
        kind=kind,
        ts=state.clock(),
        balance_after=after,
        ref_id=ref,
        symbol=symbol,
    )
    return BalanceChanged(entry)
