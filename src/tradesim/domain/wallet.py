"""Wallet figures computed from stored records, with the engine's own arithmetic.

The api has no engine: it reads balances, positions and open orders from the database and the
latest mark prices from the price feed, and shows `walletBalance`, `equity` and `availableBalance`
computed by `account_arithmetic`, the module `MatchingEngine.account_view` uses too (its docstring
states the rules). Orders the engine has not taken in yet (`accepted_time` 0) and untriggered
conditional orders hold nothing; an order without a price of its own is held at the last price.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal

from tradesim.domain.account_arithmetic import account_figures, funds_coin, linear_order_hold, spot_order_hold
from tradesim.domain.accounts import AccountView
from tradesim.domain.enums import OrderStatus
from tradesim.domain.instruments import InstrumentCatalog
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
    coin = funds_coin(instrument, order.side)
    if not instrument.is_linear:
        return coin, spot_order_hold(order.side, qty, price)
    if order.reduce_only:
        return coin, ZERO
    position = positions.get(order.symbol)
    if position is None:
        leverage = min(default_leverage, instrument.max_leverage)
        return coin, linear_order_hold(order.side, qty, price, leverage, instrument.taker_fee_rate, None, ZERO)
    return coin, linear_order_hold(
        order.side, qty, price, position.leverage, instrument.taker_fee_rate, position.side, position.size
    )


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
    """The account's figures in `settle_coin` (see `account_arithmetic` for the rules)."""
    linear = {p.symbol: p for p in positions}
    order_im = ZERO
    for order in open_orders:
        if order.account_id != account_id:
            continue
        coin, amount = reserved_by(
            order, linear, catalog, last_prices=last_prices or marks, default_leverage=default_leverage
        )
        if coin == settle_coin:
            order_im += amount
    return account_figures(account_id, settle_coin, balances, linear.values(), marks.get, order_im)
