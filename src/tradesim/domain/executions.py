"""Executions (fills) and ledger entries: the only records of money moving."""

from __future__ import annotations

import hashlib
import uuid
from decimal import Decimal
from typing import Final

import attrs

from tradesim.domain.enums import Category, ExecType, LedgerKind, OrderType, Side
from tradesim.domain.numbers import ZERO

#: Namespace for ids derived from other ids, so that replaying the same fill yields the same id.
ID_NAMESPACE: Final = uuid.UUID("7d5c8a4e-3b1f-4c6e-9a2d-5e8f1b0c7a93")


_NAMESPACE_BYTES: Final = ID_NAMESPACE.bytes


def derived_id(*parts: object) -> str:
    """A UUID determined by `parts`: the same inputs always name the same record.

    It is `str(uuid.uuid5(ID_NAMESPACE, ":".join(parts)))`, computed without building a `UUID`
    (which checks its input and converts through an int): every fill names three records this way.
    """
    digest = bytearray(hashlib.sha1(_NAMESPACE_BYTES + ":".join(map(str, parts)).encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # the RFC 4122 variant
    text = digest.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


@attrs.frozen(slots=True)
class Execution:
    """One fill. `exec_pnl` is the price PnL it realised (before fees); `closed_size` the qty it closed."""

    exec_id: str
    order_id: str
    account_id: str
    symbol: str
    side: Side
    exec_price: Decimal
    exec_qty: Decimal
    exec_fee: Decimal
    fee_rate: Decimal
    is_maker: bool
    exec_time: int
    order_type: OrderType
    category: Category = Category.LINEAR
    exec_type: ExecType = ExecType.TRADE
    closed_size: Decimal = ZERO
    exec_pnl: Decimal = ZERO
    order_link_id: str = ""
    fee_coin: str = "USDT"

    @property
    def exec_value(self) -> Decimal:
        return self.exec_qty * self.exec_price


@attrs.frozen(slots=True)
class LedgerEntry:
    """A change to one coin balance of one account. The balance is the sum of its entries."""

    entry_id: str
    account_id: str
    coin: str
    amount: Decimal
    kind: LedgerKind
    ts: int
    balance_after: Decimal
    ref_id: str = ""
    symbol: str = ""
