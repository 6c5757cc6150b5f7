"""Margin arithmetic for USDT linear perpetuals, as Bybit documents it.

- Initial margin (IM) = position value / leverage.
- Maintenance margin (MM) = position value x maintenance margin rate (first risk-limit tier,
  so the MM deduction is zero).
- Order cost = IM + fee to open + fee to close, the closing fee taken at the bankruptcy
  price (Bybit Help Center, "Order Cost (USDT Contract)").
- Bankruptcy price: long entry x (1 - 1/leverage), short entry x (1 + 1/leverage), moved out by
  any extra margin beyond IM; liquidation price is IM - MM closer to the entry (Bybit Help
  Center, "Liquidation Price (USDT Contract)", isolated margin).
"""

from __future__ import annotations

from decimal import Decimal

from tradesim.domain.enums import Side
from tradesim.domain.numbers import ONE, ZERO, round_money, round_to_step


def initial_margin(value: Decimal, leverage: Decimal) -> Decimal:
    return round_money(value / leverage)


def maintenance_margin(value: Decimal, mmr: Decimal) -> Decimal:
    return value * mmr


def bankruptcy_price_at_entry(side: Side, price: Decimal, leverage: Decimal) -> Decimal:
    """The price at which a fresh position at `price` would have lost exactly its initial margin."""
    factor = ONE - ONE / leverage if side is Side.BUY else ONE + ONE / leverage
    return price * factor


def order_cost(side: Side, qty: Decimal, price: Decimal, leverage: Decimal, taker_fee_rate: Decimal) -> Decimal:
    """Margin an order to open `qty` at `price` reserves: IM + fee to open + fee to close at bankruptcy."""
    value = qty * price
    close_fee = qty * bankruptcy_price_at_entry(side, price, leverage) * taker_fee_rate
    return round_money(value / leverage + value * taker_fee_rate + close_fee)


def liquidation_prices(
    side: Side,
    size: Decimal,
    entry_value: Decimal,
    margin: Decimal,
    mmr: Decimal,
    tick: Decimal,
) -> tuple[Decimal | None, Decimal | None]:
    """Liquidation and bankruptcy price of a position holding `margin` (IM plus any extra).

    Long: LP = entry - (margin - MM) / size, bankruptcy = entry - margin / size; short mirrored.
    The liquidation price is rounded toward the entry (a position is liquidated no later than
    the exact level) and the bankruptcy price toward the entry as well (the loss never exceeds
    the margin). Returns `(None, None)` when no positive price would liquidate the position.
    """
    if size <= 0:
        return None, None
    mm = maintenance_margin(entry_value, mmr)
    if side is Side.BUY:
        liq = (entry_value - margin + mm) / size
        bust = (entry_value - margin) / size
        if liq <= 0:
            return None, None
        return round_to_step(liq, tick, up=True), max(round_to_step(bust, tick, up=True), tick)
    liq = (entry_value + margin - mm) / size
    bust = (entry_value + margin) / size
    return round_to_step(liq, tick, up=False), round_to_step(bust, tick, up=False)


def unrealised_pnl(side: Side | None, size: Decimal, entry_value: Decimal, mark: Decimal) -> Decimal:
    if side is None or size == 0:
        return ZERO
    value = size * mark
    return value - entry_value if side is Side.BUY else entry_value - value
