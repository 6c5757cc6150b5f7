"""Accounts in the engine: opened, restored from storage, re-synced, forgotten; leverage and transfers."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal

import attrs

from tradesim.domain.commands import SetLeverage, Transfer
from tradesim.domain.engine import bookkeeping, ledger, liquidation, reservations
from tradesim.domain.engine.state import AccountState, EngineState, Events
from tradesim.domain.enums import Category, LedgerKind
from tradesim.domain.errors import DuplicateAccount, InsufficientBalance, InvalidInput, PositionOpen, TradesimError
from tradesim.domain.events import CommandRejected, PositionChanged
from tradesim.domain.executions import derived_id
from tradesim.domain.numbers import ZERO, money_str, to_decimal
from tradesim.domain.orders import Order
from tradesim.domain.positions import Position


def open_account(state: EngineState, account_id: str, balance: Decimal, coin: str, transfer_id: str) -> Events:
    """Create an empty account and fund it with `balance` (one Transfer ledger entry)."""
    if account_id in state.accounts:
        raise DuplicateAccount(f"account {account_id!r} already exists")
    state.accounts[account_id] = AccountState(account_id)
    if not balance:
        return []
    return transfer(
        state, Transfer(account_id, balance, transfer_id or f"open-{account_id}", coin or state.config.settle_coin)
    )


def restore_account(
    state: EngineState,
    account_id: str,
    balances: Mapping[str, Decimal],
    positions: Iterable[Position],
    open_orders: Iterable[Order],
) -> None:
    """Rebuild an account from stored state; only orders the engine had accepted are restored."""
    account = AccountState(account_id)
    state.accounts[account_id] = account
    account.balances.update(balances)
    for position in positions:
        account.positions[position.symbol] = position
        market = state.instruments.get((Category.LINEAR, position.symbol))
        if market is not None and position.side is not None:
            market.accounts_with_position.add(account_id)
    for order in sorted(open_orders, key=lambda o: (o.created_time, o.order_id)):
        market = state.instruments.get((order.category, order.symbol))
        if market is None or not order.status.is_open or not order.accepted_time:
            continue
        bookkeeping.rest(state, order, account, market)
        if order.is_position_tpsl:
            account.tpsl[(order.symbol, order.stop_order_type)] = order.order_id
    liquidation.reprice(state, account)


def forget_account(state: EngineState, account_id: str) -> None:
    """Drop an account and its orders (its stored state is the truth; `restore_account` reloads it)."""
    account = state.accounts.pop(account_id, None)
    if account is None:
        return
    for order_id in account.open_orders:
        order = state.orders.pop(order_id, None)
        if order is not None:
            state.instruments[(order.category, order.symbol)].unindex(order)
    for symbol in account.positions:
        market = state.instruments.get((Category.LINEAR, symbol))
        if market is not None:
            market.index_liquidation(account_id, None, None, 0)
            market.accounts_with_position.discard(account_id)


def set_leverage(state: EngineState, cmd: SetLeverage) -> Events:
    try:
        account = state.account(cmd.account_id)
        instrument = state.catalog.get(cmd.symbol, Category.LINEAR)
        leverage = to_decimal(cmd.leverage, "leverage")
        instrument.check_leverage(leverage)
        position = state.position(account, cmd.symbol)
        busy = position.side is not None or bool(account.orders_by_instrument.get((Category.LINEAR, cmd.symbol)))
        if busy:
            raise PositionOpen(
                f"close the {cmd.symbol} position and cancel its open orders before changing leverage or margin mode"
            )
    except TradesimError as error:
        return [CommandRejected(cmd.account_id, "set-leverage", error)]
    position = attrs.evolve(
        position, leverage=leverage, margin_mode=cmd.margin_mode or position.margin_mode, updated_time=state.clock()
    )
    account.positions[cmd.symbol] = position
    return [PositionChanged(position)]


def transfer(state: EngineState, cmd: Transfer) -> Events:
    try:
        account = state.account(cmd.account_id)
        amount = to_decimal(cmd.amount, "amount")
        if amount == 0:
            raise InvalidInput("a transfer amount must not be zero")
        free = reservations.available(state, account, cmd.coin)
        if amount < 0 and -amount > free:
            shown = money_str(max(free, ZERO))
            raise InsufficientBalance(
                f"cannot withdraw {money_str(-amount)} {cmd.coin}: only {shown} {cmd.coin} is available"
            )
    except TradesimError as error:
        return [CommandRejected(cmd.account_id, "transfer", error)]
    entry_id = derived_id("transfer", cmd.transfer_id)
    events: Events = [ledger.post(state, account, cmd.coin, amount, LedgerKind.TRANSFER, entry_id, cmd.transfer_id, "")]
    events.extend(liquidation.reprice(state, account))
    return events
