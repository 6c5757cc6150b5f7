"""Accounts: who owns them, and the balance figures a trader sees."""

from __future__ import annotations

from decimal import Decimal

import attrs

from tradesim.domain.errors import InvalidInput

DEFAULT_CURRENCY = "USDT"


def _name(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not value.strip() or len(value) > 100:
        raise InvalidInput("account name must be 1 to 100 characters")


@attrs.frozen(slots=True)
class Account:
    """A simulated account. `kind` is ``live`` for paper trading or ``replay`` for a Bar Replay session."""

    account_id: str
    user_id: str
    name: str = attrs.field(validator=_name)
    created_time: int = 0
    currency: str = DEFAULT_CURRENCY
    kind: str = "live"


@attrs.frozen(slots=True)
class AccountView:
    """The figures of Bybit's wallet-balance for the account's settlement coin.

    wallet_balance: the sum of the ledger. equity: wallet + unrealised PnL of open positions.
    available_balance: equity minus initial margin of positions and open orders (and, for
    isolated positions, without their unrealised PnL), never below zero.
    """

    account_id: str
    coin: str
    wallet_balance: Decimal
    equity: Decimal
    available_balance: Decimal
    unrealised_pnl: Decimal
    position_im: Decimal
    order_im: Decimal
    balances: dict[str, Decimal] = attrs.field(factory=dict)
