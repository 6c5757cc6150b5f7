"""Accounts: who owns them, and the balance figures a trader sees."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

import attrs

from tradesim.domain.errors import InvalidInput

DEFAULT_CURRENCY = "USDT"


def _name(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not value.strip() or len(value) > 100:
        raise InvalidInput("account name must be 1 to 100 characters")


class AccountKind(StrEnum):
    """What an account trades on. It never changes once the account is opened."""

    #: Paper trading on the streamed market.
    LIVE = "live"
    #: Trading inside one Bar Replay session, on its bars and its clock.
    REPLAY = "replay"
    #: Owned by a strategy run (a backtest), traded only by the strategy runner.
    STRATEGY = "strategy"


def _kind(value: object) -> AccountKind:
    try:
        return AccountKind(str(value))
    except ValueError:
        kinds = ", ".join(k.value for k in AccountKind)
        raise InvalidInput(f"account kind must be one of {kinds}, not {value!r}") from None


@attrs.frozen(slots=True)
class Account:
    """A simulated account of one `AccountKind` (a string of its value is accepted too)."""

    account_id: str
    user_id: str
    name: str = attrs.field(validator=_name)
    created_time: int = 0
    currency: str = DEFAULT_CURRENCY
    kind: AccountKind = attrs.field(default=AccountKind.LIVE, converter=_kind)


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
