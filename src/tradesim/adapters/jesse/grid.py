"""Between Jesse's floats and the instrument's grid: symbols, quantities and prices."""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal

from tradesim.domain.instruments import Instrument

#: The exchange every context trades on, as Jesse names it: Jesse checks names against its own
#: list, and Bybit's perpetuals are what tradesim's rules model.
EXCHANGE = "Bybit USDT Perpetual"

#: A float within this many steps of a grid point is taken to mean that point: ``0.3`` arrives as
#: ``0.30000000000000004`` or ``0.29999999999999993`` after Jesse's arithmetic.
_CLOSE_TO_GRID = 1e-6


def jesse_symbol(instrument: Instrument) -> str:
    """``BTCUSDT`` -> ``BTC-USDT``, Jesse's spelling."""
    return f"{instrument.base_coin}-{instrument.quote_coin}"


def snap_qty(qty: float, step: Decimal) -> Decimal:
    """`qty` (positive) on the quantity grid: the nearest step when the float is only noise away
    from one, otherwise rounded down, so that an order never asks for more than the strategy sized."""
    steps = abs(qty) / float(step)
    nearest = round(steps)
    if abs(steps - nearest) <= _CLOSE_TO_GRID * max(1.0, steps):
        return Decimal(nearest) * step
    return (Decimal(repr(abs(float(qty)))) / step).to_integral_value(rounding=ROUND_DOWN) * step


def snap_price(price: float, tick: Decimal) -> Decimal:
    """`price` on the tick grid (nearest tick)."""
    return (Decimal(repr(float(price))) / tick).to_integral_value(rounding=ROUND_HALF_EVEN) * tick
