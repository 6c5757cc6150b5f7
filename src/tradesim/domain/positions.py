"""One-way positions in USDT linear perpetuals.

A position keeps its cost basis exactly (`entry_value` = sum of qty x price of what is still
open), so realised PnL over a round trip equals exit value minus entry value with no drift;
only a partial close, which takes a proportional share of the basis, rounds (to the money
quantum) and the remaining basis absorbs the rounding.
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from tradesim.domain.enums import MarginMode, Side, TriggerBy
from tradesim.domain.errors import InvalidInput
from tradesim.domain.margin import initial_margin, unrealised_pnl
from tradesim.domain.numbers import ZERO, round_money


@attrs.frozen(slots=True)
class FillOutcome:
    position: Position
    closed_qty: Decimal
    realised_pnl: Decimal


@attrs.frozen(slots=True)
class Position:
    """Bybit's position record: `side` is None and `size` zero when flat (leverage is kept)."""

    account_id: str
    symbol: str
    leverage: Decimal = Decimal(10)
    margin_mode: MarginMode = MarginMode.CROSS
    side: Side | None = None
    size: Decimal = ZERO
    entry_value: Decimal = ZERO
    cum_realised_pnl: Decimal = ZERO
    take_profit: Decimal | None = None
    stop_loss: Decimal | None = None
    tp_trigger_by: TriggerBy = TriggerBy.LAST_PRICE
    sl_trigger_by: TriggerBy = TriggerBy.LAST_PRICE
    liq_price: Decimal | None = None
    bust_price: Decimal | None = None
    created_time: int = 0
    updated_time: int = 0

    def __attrs_post_init__(self) -> None:
        if self.size < 0:
            raise InvalidInput(f"position size must not be negative, got {self.size}")
        if (self.side is None) != (self.size == 0):
            raise InvalidInput("a position has a side exactly when its size is not zero")
        if self.leverage <= 0:
            raise InvalidInput(f"leverage must be positive, got {self.leverage}")

    @property
    def is_open(self) -> bool:
        return self.size > 0

    @property
    def signed_size(self) -> Decimal:
        return self.size if self.side is Side.BUY else -self.size

    @property
    def avg_price(self) -> Decimal:
        return self.entry_value / self.size if self.size else ZERO

    @property
    def position_margin(self) -> Decimal:
        """Initial margin the position holds: value at entry / leverage."""
        return initial_margin(self.entry_value, self.leverage) if self.size else ZERO

    def unrealised_pnl(self, mark: Decimal) -> Decimal:
        return unrealised_pnl(self.side, self.size, self.entry_value, mark)

    def apply_fill(self, side: Side, qty: Decimal, price: Decimal, ts: int) -> FillOutcome:
        """The position after a fill of `qty` at `price` on `side`, and the price PnL it realised."""
        if qty <= 0:
            raise InvalidInput(f"fill qty must be positive, got {qty}")
        if self.side is None or self.side is side:
            grown = attrs.evolve(
                self,
                side=side,
                size=self.size + qty,
                entry_value=self.entry_value + qty * price,
                created_time=self.created_time if self.size else ts,
                updated_time=ts,
            )
            return FillOutcome(grown, ZERO, ZERO)
        closed = min(qty, self.size)
        basis = self.entry_value if closed == self.size else round_money(self.entry_value * closed / self.size)
        exit_value = closed * price
        pnl = exit_value - basis if self.side is Side.BUY else basis - exit_value
        remaining = self.size - closed
        flipped = qty - closed
        if remaining:
            after = attrs.evolve(self, size=remaining, entry_value=self.entry_value - basis, updated_time=ts)
        elif flipped:
            after = attrs.evolve(
                self,
                side=side,
                size=flipped,
                entry_value=flipped * price,
                take_profit=None,
                stop_loss=None,
                created_time=ts,
                updated_time=ts,
            )
        else:
            after = attrs.evolve(
                self,
                side=None,
                size=ZERO,
                entry_value=ZERO,
                take_profit=None,
                stop_loss=None,
                liq_price=None,
                bust_price=None,
                updated_time=ts,
            )
        return FillOutcome(after, closed, pnl)
