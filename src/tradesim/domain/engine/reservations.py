"""Reservations and available balance: what an order must find free, and what a resting order holds back.

The arithmetic is `account_arithmetic`'s (shared with the api's wallet view); the running totals
per account are `holds.Reservations`.
"""

from __future__ import annotations

from decimal import Decimal

from tradesim.domain import account_arithmetic
from tradesim.domain.accounts import AccountView
from tradesim.domain.engine.holds import LinearHold
from tradesim.domain.engine.state import AccountState, EngineState, InstrumentState
from tradesim.domain.enums import OrderStatus
from tradesim.domain.errors import InsufficientBalance, InsufficientMargin, RuleViolation
from tradesim.domain.numbers import ZERO, money_str
from tradesim.domain.orders import Order


def available(state: EngineState, account: AccountState, coin: str) -> Decimal:
    """What new orders may still use: for the settle coin, equity minus every initial margin."""
    wallet = account.balance(coin)
    if coin != state.config.settle_coin:
        return wallet - account.reserved_in(coin)
    return account_arithmetic.available_balance(
        wallet, account.positions.values(), state.mark, account.reserved_in(coin)
    )


def account_view(state: EngineState, account_id: str) -> AccountView:
    """Bybit-style wallet figures for the account's settle coin (raises `NotFound`)."""
    account = state.account(account_id)
    coin = state.config.settle_coin
    return account_arithmetic.account_figures(
        account_id, coin, account.balances, account.positions.values(), state.mark, account.reserved_in(coin)
    )


def funds_needed(
    state: EngineState, account: AccountState, market: InstrumentState, order: Order, price: Decimal
) -> Decimal:
    """What the open remainder of `order` at `price` must have available, in its funds coin."""
    instrument = market.instrument
    qty = order.remaining_qty
    if not instrument.is_linear:
        return account_arithmetic.spot_order_hold(order.side, qty, price)
    if order.reduce_only:
        return ZERO
    position = state.position(account, order.symbol)
    return account_arithmetic.linear_order_hold(
        order.side, qty, price, position.leverage, instrument.taker_fee_rate, position.side, position.size
    )


def check_funds(
    state: EngineState, account: AccountState, market: InstrumentState, order: Order, price: Decimal
) -> RuleViolation | None:
    """Why the account cannot afford `order` at `price`, or None when it can."""
    needed = funds_needed(state, account, market, order, price)
    if not needed:
        return None
    coin = account_arithmetic.funds_coin(market.instrument, order.side)
    free = available(state, account, coin)
    if needed <= free:
        return None
    shown = money_str(max(free, ZERO))
    if market.instrument.is_linear:
        return InsufficientMargin(
            f"order cost {money_str(needed)} {coin} (initial margin plus fees to open and close) "
            f"exceeds the available balance {shown} {coin}"
        )
    return InsufficientBalance(f"order needs {money_str(needed)} {coin} but only {shown} {coin} is available")


def hold_for(state: EngineState, account: AccountState, market: InstrumentState, order: Order) -> None:
    """Hold back what the open remainder of a resting order needs (nothing once it is closed or untriggered)."""
    state.accounts_to_reprice.add(account.account_id)
    holds = account.reservations
    if not order.status.is_open or order.status is OrderStatus.UNTRIGGERED:
        holds.release(order.order_id)
        return
    price = order.price if order.price is not None else market.last
    if price is None:
        return
    instrument = market.instrument
    if not instrument.is_linear:
        amount = account_arithmetic.spot_order_hold(order.side, order.remaining_qty, price)
        holds.hold_spot(order.order_id, account_arithmetic.funds_coin(instrument, order.side), amount)
    elif order.reduce_only:
        holds.release(order.order_id)
    else:
        position = state.position(account, order.symbol)
        hold = LinearHold(
            order.symbol, order.side, order.remaining_qty, price, position.leverage, instrument.taker_fee_rate
        )
        holds.hold_linear(order.order_id, instrument.quote_coin, hold, position.side, position.size)
