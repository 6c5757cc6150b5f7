"""Small builders of domain records for the contract suites."""

from __future__ import annotations

from decimal import Decimal

from tradesim.domain import (
    Account,
    Candle,
    Execution,
    LedgerEntry,
    LedgerKind,
    Order,
    OrderStatus,
    OrderType,
    Position,
    Side,
)
from tradesim.domain.commands import CancelOrder
from tradesim.domain.users import User

T0 = 1_700_000_000_000


def user(n: int = 1) -> User:
    return User(user_id=f"user-{n}", email=f"trader{n}@example.com", password_hash="$argon2id$hash", created_time=T0)


def account(n: int = 1, user_n: int = 1) -> Account:
    return Account(account_id=f"acc-{n}", user_id=f"user-{user_n}", name=f"Account {n}", created_time=T0 + n)


def order(n: int = 1, *, account_id: str = "acc-1", link: str = "", status: OrderStatus = OrderStatus.NEW) -> Order:
    return Order(
        order_id=f"ord-{n}",
        account_id=account_id,
        symbol="BTCUSDT",
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        qty=Decimal("0.010"),
        price=Decimal("30000.10"),
        status=status,
        created_time=T0 + n,
        updated_time=T0 + n,
        order_link_id=link,
    )


def entry(n: int, amount: str, *, account_id: str = "acc-1", coin: str = "USDT") -> LedgerEntry:
    return LedgerEntry(
        entry_id=f"entry-{n}",
        account_id=account_id,
        coin=coin,
        amount=Decimal(amount),
        kind=LedgerKind.TRANSFER,
        ts=T0 + n,
        balance_after=Decimal(amount),
        ref_id=f"ref-{n}",
    )


def execution(n: int, *, order_id: str = "ord-1", account_id: str = "acc-1") -> Execution:
    return Execution(
        exec_id=f"exec-{n}",
        order_id=order_id,
        account_id=account_id,
        symbol="BTCUSDT",
        side=Side.BUY,
        exec_price=Decimal("30000.10"),
        exec_qty=Decimal("0.001"),
        exec_fee=Decimal("0.0165000550"),
        fee_rate=Decimal("0.00055"),
        is_maker=False,
        exec_time=T0 + n,
        order_type=OrderType.MARKET,
    )


def position(account_id: str = "acc-1", symbol: str = "BTCUSDT", size: str = "0.010") -> Position:
    return Position(
        account_id=account_id,
        symbol=symbol,
        side=Side.BUY,
        size=Decimal(size),
        entry_value=Decimal(size) * Decimal("30000.10"),
        liq_price=Decimal("27300.10"),
        created_time=T0,
        updated_time=T0,
    )


def candle(minute: int, *, symbol: str = "BTCUSDT", close: str = "30001.5") -> Candle:
    return Candle(
        symbol=symbol,
        open_time=T0 - T0 % 60_000 + minute * 60_000,
        open=Decimal("30000.1"),
        high=Decimal("30010.0"),
        low=Decimal("29990.0"),
        close=Decimal(close),
        volume=Decimal("12.345"),
        turnover=Decimal("370395.12"),
    )


def cancel(n: int = 1, *, order_n: int = 1, account_id: str = "acc-1") -> CancelOrder:
    return CancelOrder(account_id, f"ord-{order_n}", "BTCUSDT", command_id=f"cmd-{n}")
