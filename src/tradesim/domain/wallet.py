"""Wallet figures computed from stored records, the way the engine computes them from its memory.

The api has no engine: it reads balances, positions and open orders from the database and the
latest mark prices from the price feed, and shows the same `walletBalance`, `equity` and
`availableBalance` as `MatchingEngine.account_view` (`domain/engine/risk.py`):

- wallet balance: the stored balance of the settle coin (the sum of its ledger);
- equity: wallet balance plus the unrealised PnL of every open position at its mark price;
- available balance: wallet balance plus the unrealised PnL of cross positions, minus the initial
  margin of open positions and what open orders hold back, never below zero.

An open order holds back what the engine reserves when it rests: for a linear order, the order
cost (`margin.order_cost`) of the part that would open or grow the position, at its own price
(the last price when it has none), at the position's leverage; nothing for reduce-only orders.
A spot buy holds its quote value, a spot sell its base quantity. Orders the engine has not taken
in yet (`accepted_time` 0) and untriggered conditional orders hold nothing. Positions without a
mark price count no unrealised PnL, as in the engine.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal

from tradesim.domain.accounts import AccountView
from tradesim.domain.enums import MarginMode, OrderStatus, Side
from tradesim.domain.instruments import InstrumentCatalog
from tradesim.domain.margin import order_cost
from tradesim.domain.numbers import ZERO
from tradesim.domain.orders import Order
from tradesim.domain.positions import Position

DEFAULT_LEVERAGE = Decimal(10)


def reserved_by(
    order: Order,
    positions: Mapping[str, Position],
    catalog: InstrumentCatalog,
    *,
    last_prices: Mapping[str, Decimal] | None = None,
    default_leverage: Decimal = DEFAULT_LEVERAGE,
) -> tuple[str, Decimal]:
    """(coin, amount) that an open order holds back; amount zero when it holds nothing."""
    instrument = catalog.find(order.symbol, order.category)
    if instrument is None or not order.status.is_open or order.status is OrderStatus.UNTRIGGERED:
        return "", ZERO
    if not order.accepted_time:
        return "", ZERO
    price = order.price if order.price is not None else (last_prices or {}).get(order.symbol)
    if price is None:
        return "", ZERO
    qty = order.remaining_qty
    if not instrument.is_linear:
        if order.side is Side.BUY:
            return instrument.quote_coin, qty * price
        return instrument.base_coin, qty
    if order.reduce_only:
        return instrument.quote_coin, ZERO
    position = positions.get(order.symbol)
    opening = qty
    if position is not None and position.side is not None and position.side is not order.side:
        opening = max(qty - position.size, ZERO)
    if not opening:
        return instrument.quote_coin, ZERO
    leverage = position.leverage if position is not None else min(default_leverage, instrument.max_leverage)
    return instrument.quote_coin, order_cost(order.side, opening, price, leverage, instrument.taker_fee_rate)


def wallet_view(
    account_id: str,
    balances: Mapping[str, Decimal],
    positions: Iterable[Position],
    open_orders: Iterable[Order],
    marks: Mapping[str, Decimal],
    catalog: InstrumentCatalog,
    *,
    settle_coin: str = "USDT",
    last_prices: Mapping[str, Decimal] | None = None,
    default_leverage: Decimal = DEFAULT_LEVERAGE,
) -> AccountView:
    """The account's figures in `settle_coin` (see the module docstring for the rules)."""
    linear = {p.symbol: p for p in positions}
    upnl = cross_upnl = position_im = ZERO
    for position in linear.values():
        if not position.size:
            continue
        position_im += position.position_margin
        mark = marks.get(position.symbol)
        if mark is None:
            continue
        pnl = position.unrealised_pnl(mark)
        upnl += pnl
        if position.margin_mode is MarginMode.CROSS:
            cross_upnl += pnl
    order_im = ZERO
    for order in open_orders:
        if order.account_id != account_id:
            continue
        coin, amount = reserved_by(
            order, linear, catalog, last_prices=last_prices or marks, default_leverage=default_leverage
        )
        if coin == settle_coin:
            order_im += amount
    wallet = balances.get(settle_coin, ZERO)
    return AccountView(
        account_id=account_id,
        coin=settle_coin,
        wallet_balance=wallet,
        equity=wallet + upnl,
        available_balance=max(wallet + cross_upnl - position_im - order_im, ZERO),
        unrealised_pnl=upnl,
        position_im=position_im,
        order_im=order_im,
        balances=dict(balances),
    )
