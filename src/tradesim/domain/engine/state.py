"""What the engine keeps per account between events."""

from __future__ import annotations

from decimal import Decimal

from tradesim.domain.engine.reservations import Reservations
from tradesim.domain.enums import Category, StopOrderType
from tradesim.domain.numbers import ZERO
from tradesim.domain.positions import Position


class AccountState:
    """Balances per coin, linear positions per symbol (flat ones keep leverage), and reservations.

    `reservations` knows what each open order holds back: for linear orders the order cost in the
    settle coin, for spot orders the coin it will spend.
    """

    __slots__ = (
        "account_id",
        "balances",
        "open_orders",
        "orders_by_instrument",
        "positions",
        "reduce_only_orders",
        "reservations",
        "tpsl",
    )

    def __init__(self, account_id: str) -> None:
        self.account_id = account_id
        self.balances: dict[str, Decimal] = {}
        self.positions: dict[str, Position] = {}
        self.open_orders: set[str] = set()
        #: The same ids by (category, symbol): closing a position or liquidating it looks only
        #: at that instrument's orders, not at every order of the account.
        self.orders_by_instrument: dict[tuple[Category, str], set[str]] = {}
        #: symbol -> the open reduce-only linear orders: what closing or flipping the position cancels.
        self.reduce_only_orders: dict[str, set[str]] = {}
        self.reservations = Reservations()
        #: (symbol, StopOrderType) -> order id of the position's full-size take-profit / stop-loss.
        self.tpsl: dict[tuple[str, StopOrderType], str] = {}

    def balance(self, coin: str) -> Decimal:
        return self.balances.get(coin, ZERO)

    def orders_on(self, category: Category, symbol: str) -> list[str]:
        """Open order ids on one instrument, in id order (a copy: safe to cancel while iterating)."""
        return sorted(self.orders_by_instrument.get((category, symbol), ()))

    def reserved_in(self, coin: str) -> Decimal:
        return self.reservations.total(coin)
