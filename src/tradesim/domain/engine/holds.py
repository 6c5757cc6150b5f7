"""What an account's open orders hold back, kept as running totals per coin.

What one order holds is `account_arithmetic`'s rule (the api's wallet view uses the same). Each
order's amount is rounded on its own, and the totals are sums of those amounts, so they are exact.

A fill moves the position, and with it what the orders against the position hold. Rather than
re-pricing every order of the instrument, the totals keep per side the sum of the full costs and
the orders ordered by size: re-pricing looks only at the orders larger than the position they
face (the ones that would flip it), which is what makes a fill cost the same whatever the number
of resting orders.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from decimal import Decimal

from tradesim.domain.account_arithmetic import linear_order_hold
from tradesim.domain.enums import Side
from tradesim.domain.numbers import ZERO


class LinearHold:
    """One linear order's terms: enough to price what it holds against any position."""

    __slots__ = ("full", "leverage", "price", "qty", "side", "symbol", "taker_fee_rate")

    def __init__(
        self, symbol: str, side: Side, qty: Decimal, price: Decimal, leverage: Decimal, taker_fee_rate: Decimal
    ) -> None:
        self.symbol = symbol
        self.side = side
        self.qty = qty
        self.price = price
        self.leverage = leverage
        self.taker_fee_rate = taker_fee_rate
        self.full = linear_order_hold(side, qty, price, leverage, taker_fee_rate, None, ZERO)

    def against(self, position_size: Decimal) -> Decimal:
        """What the order holds while a position of `position_size` stands against it."""
        return linear_order_hold(
            self.side, self.qty, self.price, self.leverage, self.taker_fee_rate, self.side.opposite, position_size
        )


class _SideHolds:
    """The holds of one instrument's orders on one side: the sum of their full costs, and by size."""

    __slots__ = ("by_size", "full")

    def __init__(self) -> None:
        self.full = ZERO
        #: (-qty, order id), so the largest orders come first.
        self.by_size: list[tuple[Decimal, str]] = []

    def add(self, order_id: str, hold: LinearHold) -> None:
        self.full += hold.full
        insort(self.by_size, (-hold.qty, order_id))

    def remove(self, order_id: str, hold: LinearHold) -> None:
        self.full -= hold.full
        entries = self.by_size
        del entries[bisect_left(entries, (-hold.qty, order_id))]

    def against(self, position_size: Decimal, holds: dict[str, LinearHold]) -> Decimal:
        """What the side holds against a position of `position_size`: only orders larger than it hold anything."""
        total = ZERO
        for neg_qty, order_id in self.by_size:
            if -neg_qty <= position_size:
                break
            total += holds[order_id].against(position_size)
        return total


class Reservations:
    """What every open order of one account holds, and the totals per coin."""

    __slots__ = ("_basis", "_held", "_linear", "_settle_coin", "_sides", "_spot", "_totals")

    def __init__(self) -> None:
        self._spot: dict[str, tuple[str, Decimal]] = {}
        self._linear: dict[str, LinearHold] = {}
        self._sides: dict[tuple[str, Side], _SideHolds] = {}
        #: symbol -> the position (side, size) its linear orders' amounts were priced against.
        self._basis: dict[str, tuple[Side | None, Decimal]] = {}
        #: symbol -> what its linear orders hold in all, and the coin they hold it in.
        self._held: dict[str, Decimal] = {}
        self._settle_coin: dict[str, str] = {}
        self._totals: dict[str, Decimal] = {}

    def total(self, coin: str) -> Decimal:
        return self._totals.get(coin, ZERO)

    def hold_spot(self, order_id: str, coin: str, amount: Decimal) -> None:
        self.release(order_id)
        if amount > 0:
            self._spot[order_id] = (coin, amount)
            self._totals[coin] = self._totals.get(coin, ZERO) + amount

    def hold_linear(
        self,
        order_id: str,
        coin: str,
        hold: LinearHold,
        position_side: Side | None,
        position_size: Decimal,
    ) -> None:
        """Hold the order cost of `hold`'s order, with the instrument's position as it is now."""
        self.release(order_id)
        symbol = hold.symbol
        self._settle_coin[symbol] = coin
        self.reprice(symbol, position_side, position_size)
        self._linear[order_id] = hold
        sides = self._sides.get((symbol, hold.side))
        if sides is None:
            sides = self._sides[(symbol, hold.side)] = _SideHolds()
        sides.add(order_id, hold)
        self._move(symbol, self._share(hold, self._basis[symbol]))

    def release(self, order_id: str) -> None:
        spot = self._spot.pop(order_id, None)
        if spot is not None:
            coin, amount = spot
            self._totals[coin] -= amount
            return
        hold = self._linear.pop(order_id, None)
        if hold is not None:
            self._sides[(hold.symbol, hold.side)].remove(order_id, hold)
            self._move(hold.symbol, -self._share(hold, self._basis[hold.symbol]))

    def reprice(self, symbol: str, position_side: Side | None, position_size: Decimal) -> None:
        """The instrument's position is now (`position_side`, `position_size`): price its orders against it."""
        basis = (position_side, position_size)
        if self._basis.get(symbol) == basis:
            return
        self._basis[symbol] = basis
        if symbol not in self._held:
            return
        total = ZERO
        for side in (Side.BUY, Side.SELL):
            sides = self._sides.get((symbol, side))
            if sides is None:
                continue
            if position_side is None or position_side is side:
                total += sides.full
            else:
                total += sides.against(position_size, self._linear)
        self._move(symbol, total - self._held[symbol])

    def _share(self, hold: LinearHold, basis: tuple[Side | None, Decimal]) -> Decimal:
        side, size = basis
        if side is None or side is hold.side:
            return hold.full
        return hold.against(size)

    def _move(self, symbol: str, amount: Decimal) -> None:
        self._held[symbol] = self._held.get(symbol, ZERO) + amount
        coin = self._settle_coin[symbol]
        self._totals[coin] = self._totals.get(coin, ZERO) + amount
