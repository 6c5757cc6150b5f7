"""The account arithmetic, pure: what an open order holds back, and the wallet figures a trader sees.

The engine (from its memory) and the api's wallet view (from stored records) both compute with
these functions, so they agree by construction.

- An open linear order that is not reduce-only holds the order cost (`margin.order_cost`) of the
  part that would open or grow the position, at its own price and the position's leverage: all
  of it while the position is flat or on the order's side, the excess over the position's size
  while the position stands against it. A reduce-only order holds nothing.
- A spot buy holds its quote value, a spot sell its base quantity.
- Wallet balance is the stored balance of the settle coin (the sum of its ledger); equity adds the
  unrealised PnL of every open position at its mark price; available balance is the wallet plus
  the unrealised PnL of cross positions, less the initial margin of open positions and what open
  orders hold, never below zero. A position without a mark price counts no unrealised PnL.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal

from tradesim.domain.accounts import AccountView
from tradesim.domain.enums import MarginMode, Side
from tradesim.domain.instruments import Instrument
from tradesim.domain.margin import order_cost
from tradesim.domain.numbers import ZERO
from tradesim.domain.positions import Position


def linear_order_hold(
    side: Side,
    qty: Decimal,
    price: Decimal,
    leverage: Decimal,
    taker_fee_rate: Decimal,
    position_side: Side | None,
    position_size: Decimal,
) -> Decimal:
    """What a linear order for `qty` at `price` holds while the position is (`position_side`, `position_size`)."""
    against = position_side is not None and position_side is not side
    opening = max(qty - position_size, ZERO) if against else qty
    if not opening:
        return ZERO
    return order_cost(side, opening, price, leverage, taker_fee_rate)


def funds_coin(instrument: Instrument, side: Side) -> str:
    """The coin an order spends: the quote coin, except for a spot sell, which spends the base coin."""
    if instrument.is_linear or side is Side.BUY:
        return instrument.quote_coin
    return instrument.base_coin


def spot_order_hold(side: Side, qty: Decimal, price: Decimal) -> Decimal:
    """What a spot order holds, in `funds_coin`: a buy its quote value, a sell its base quantity."""
    return qty * price if side is Side.BUY else qty


def available_balance(
    wallet: Decimal, positions: Iterable[Position], mark: Callable[[str], Decimal | None], order_im: Decimal
) -> Decimal:
    """Wallet plus cross unrealised PnL, less position and order initial margin (may be negative)."""
    cross_upnl = position_im = ZERO
    for position in positions:
        if not position.size:
            continue
        position_im += position.position_margin
        if position.margin_mode is MarginMode.CROSS:
            price = mark(position.symbol)
            if price is not None:
                cross_upnl += position.unrealised_pnl(price)
    return wallet + cross_upnl - position_im - order_im


def account_figures(
    account_id: str,
    coin: str,
    balances: Mapping[str, Decimal],
    positions: Iterable[Position],
    mark: Callable[[str], Decimal | None],
    order_im: Decimal,
) -> AccountView:
    """Bybit's wallet-balance figures for `coin`, the settle coin."""
    open_positions = [p for p in positions if p.size]
    upnl = position_im = ZERO
    for position in open_positions:
        position_im += position.position_margin
        price = mark(position.symbol)
        if price is not None:
            upnl += position.unrealised_pnl(price)
    wallet = balances.get(coin, ZERO)
    available = available_balance(wallet, open_positions, mark, order_im)
    return AccountView(
        account_id=account_id,
        coin=coin,
        wallet_balance=wallet,
        equity=wallet + upnl,
        available_balance=max(available, ZERO),
        unrealised_pnl=upnl,
        position_im=position_im,
        order_im=order_im,
        balances=dict(balances),
    )
