"""Accounts and their wallet figures."""

from __future__ import annotations

import builtins
from typing import Annotated

import attrs
import msgspec

from tradesim.entrypoints.http.schemas.common import Decimal, SignedDecimal

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100, examples=["Main"])]


@attrs.frozen
class AccountCreate:
    """`startingBalance` in USDT, default 10000."""

    name: Name
    startingBalance: Decimal | None = None


@attrs.frozen
class AccountOut:
    """Wallet figures as Bybit's wallet-balance: `walletBalance` is the sum of the ledger, `equity` adds
    unrealised PnL, `availableBalance` is what new orders may use after the initial margin of positions
    (`totalPositionIM`) and open orders (`totalOrderIM`)."""

    accountId: str
    name: str
    currency: str
    kind: str
    walletBalance: SignedDecimal
    equity: SignedDecimal
    availableBalance: SignedDecimal
    unrealisedPnl: SignedDecimal
    totalPositionIM: SignedDecimal
    totalOrderIM: SignedDecimal
    createdTime: int


@attrs.frozen
class AccountList:
    list: builtins.list[AccountOut]
