"""Trading fees: the instrument's maker or taker rate, none on a bankruptcy (liquidation) fill.

A linear fill pays value x rate in the quote coin; a spot fill pays a share of what the trader
receives (the base coin on a buy, the quote coin on a sell), as on Bybit.
"""

from __future__ import annotations

from decimal import Decimal

from tradesim.domain.enums import ExecType, Side
from tradesim.domain.instruments import Instrument
from tradesim.domain.numbers import ZERO


def fee_rate(instrument: Instrument, *, is_maker: bool, exec_type: ExecType) -> Decimal:
    return ZERO if exec_type is ExecType.BUST_TRADE else instrument.fee_rate(maker=is_maker)


def linear_fee(instrument: Instrument, value: Decimal, rate: Decimal) -> tuple[Decimal, str]:
    """(fee, coin) of a linear fill worth `value`."""
    return value * rate, instrument.quote_coin


def spot_fee(instrument: Instrument, side: Side, qty: Decimal, value: Decimal, rate: Decimal) -> tuple[Decimal, str]:
    """(fee, coin) of a spot fill of `qty` worth `value`: a share of what the trader receives."""
    if side is Side.BUY:
        return qty * rate, instrument.base_coin
    return value * rate, instrument.quote_coin
