"""Taker pricing: the touch an order meets, whether it crosses, and the price and quantity it takes.

A market order takes the opposite best price (ask for buys, bid for sells) moved by the slippage
model; a marketable limit order fills at the better of that and its own price. With
`EngineConfig.cap_taker_fills_to_book_size` a taker takes at most the displayed size, and a
reduce-only order never more than the position it closes.
"""

from __future__ import annotations

from decimal import Decimal

from tradesim.domain.engine import reduce_only
from tradesim.domain.engine.config import EngineConfig
from tradesim.domain.engine.state import AccountState, InstrumentState
from tradesim.domain.enums import Side
from tradesim.domain.orders import Order


def touch(market: InstrumentState, side: Side) -> Decimal | None:
    """The best opposite price a taker on `side` meets."""
    return market.ask if side is Side.BUY else market.bid


def crosses(side: Side, touch_price: Decimal, limit: Decimal) -> bool:
    """Whether a limit order on `side` at `limit` would take at `touch_price`."""
    return touch_price <= limit if side is Side.BUY else touch_price >= limit


def taker_price(
    config: EngineConfig, market: InstrumentState, side: Side, touch_price: Decimal, qty: Decimal, limit: Decimal | None
) -> Decimal:
    price = config.slippage.adjust(side, touch_price, qty, market.instrument)
    if limit is None:
        return price
    return min(price, limit) if side is Side.BUY else max(price, limit)


def taker_qty(config: EngineConfig, account: AccountState, order: Order, market: InstrumentState) -> Decimal:
    qty = order.remaining_qty
    if reduce_only.applies(order, market.instrument):
        qty = reduce_only.cap(account, order, qty)
    if config.cap_taker_fills_to_book_size:
        displayed = market.ask_size if order.side is Side.BUY else market.bid_size
        if displayed is not None:
            qty = min(qty, displayed - displayed % market.instrument.qty_step)
    return qty
