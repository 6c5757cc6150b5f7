"""The static order-entry rules: what can be checked from the request, the instrument and a price.

The api runs these before it records an order (so a bad request is a 422 that changes
nothing); the engine runs them again when the order arrives (a library user gets the same
answer). Margin is not checked here: only the engine knows the account.
"""

from __future__ import annotations

from decimal import Decimal

from tradesim.domain.commands import PlaceOrder
from tradesim.domain.enums import Category, OrderStatus, OrderType, Side, TimeInForce, TriggerDirection
from tradesim.domain.errors import InvalidInput, InvalidTpSl, InvalidTrigger, UnsupportedForCategory
from tradesim.domain.instruments import Instrument
from tradesim.domain.numbers import ZERO, money_str, to_decimal
from tradesim.domain.orders import Order


def _decimal_or(value: object, default: Decimal | None) -> Decimal | None:
    try:
        return to_decimal(value) if value is not None else default
    except InvalidInput:
        return default


def order_from_command(cmd: PlaceOrder, order_id: str, now: int) -> Order:
    """The order a `PlaceOrder` describes, as first recorded: New, or Untriggered when conditional.

    Malformed numbers are neutralised (zero qty, no price) rather than raising, so that an
    order refused by `validate_place_order` can still be recorded as Rejected.
    """
    trigger = _decimal_or(cmd.trigger_price, None)
    return Order(
        order_id=order_id,
        account_id=cmd.account_id,
        symbol=cmd.symbol,
        side=cmd.side,
        order_type=cmd.order_type,
        qty=_decimal_or(cmd.qty, ZERO) or ZERO,
        status=OrderStatus.UNTRIGGERED if trigger is not None else OrderStatus.NEW,
        created_time=now,
        updated_time=now,
        category=cmd.category,
        price=None if cmd.order_type is OrderType.MARKET else _decimal_or(cmd.price, None),
        time_in_force=effective_time_in_force(cmd),
        order_link_id=cmd.order_link_id,
        reduce_only=cmd.reduce_only,
        close_on_trigger=cmd.close_on_trigger,
        trigger_price=trigger,
        trigger_direction=cmd.trigger_direction,
        trigger_by=cmd.trigger_by,
        take_profit=_decimal_or(cmd.take_profit, None),
        stop_loss=_decimal_or(cmd.stop_loss, None),
        tp_trigger_by=cmd.tp_trigger_by,
        sl_trigger_by=cmd.sl_trigger_by,
    )


def effective_time_in_force(cmd: PlaceOrder) -> TimeInForce:
    """Market orders are always IOC (as on Bybit); limit orders default to GTC."""
    if cmd.order_type is OrderType.MARKET:
        return TimeInForce.IOC
    return cmd.time_in_force or TimeInForce.GTC


def validate_place_order(cmd: PlaceOrder, instrument: Instrument, *, last_price: Decimal | None = None) -> None:
    """Check `cmd` against `instrument`'s rules and, where given, the current `last_price`.

    Raises:
        InvalidInput: a malformed field (float, negative, missing limit price, PostOnly market...).
        RuleViolation: the subclass naming the rule (`PriceOffTick`, `QtyBelowMinimum`,
            `NotionalBelowMinimum`, `InvalidTrigger`, `InvalidTpSl`, `UnsupportedForCategory`...).
    """
    qty = to_decimal(cmd.qty, "qty")
    if qty <= 0:
        raise InvalidInput(f"qty must be greater than 0, got {money_str(qty)}")
    is_market = cmd.order_type is OrderType.MARKET
    if is_market and cmd.time_in_force is TimeInForce.POST_ONLY:
        raise InvalidInput("timeInForce PostOnly needs a Limit order: a market order always takes liquidity")
    price: Decimal | None = None
    if not is_market:
        if cmd.price is None:
            raise InvalidInput("a Limit order needs a price")
        price = to_decimal(cmd.price, "price")
        instrument.check_price(price)
    instrument.check_qty(qty, market=is_market)

    trigger = _check_trigger(cmd, instrument, last_price)
    base_price = price if price is not None else trigger if trigger is not None else last_price
    if base_price is not None:
        instrument.check_notional(qty, base_price)
    _check_tpsl(cmd, instrument, base_price)


def _check_trigger(cmd: PlaceOrder, instrument: Instrument, last_price: Decimal | None) -> Decimal | None:
    if cmd.trigger_price is None:
        if cmd.trigger_direction is not None:
            raise InvalidTrigger("triggerDirection is set but triggerPrice is missing")
        return None
    trigger = to_decimal(cmd.trigger_price, "triggerPrice")
    if cmd.trigger_direction is None:
        raise InvalidTrigger("a conditional order needs triggerDirection: 1 (rises to) or 2 (falls to)")
    instrument.check_price(trigger, "triggerPrice")
    if last_price is not None:
        if cmd.trigger_direction is TriggerDirection.RISES_TO and trigger <= last_price:
            raise InvalidTrigger(
                f"triggerPrice {money_str(trigger)} must be above the last price {money_str(last_price)} "
                "for triggerDirection 1 (rises to)"
            )
        if cmd.trigger_direction is TriggerDirection.FALLS_TO and trigger >= last_price:
            raise InvalidTrigger(
                f"triggerPrice {money_str(trigger)} must be below the last price {money_str(last_price)} "
                "for triggerDirection 2 (falls to)"
            )
    return trigger


def _check_tpsl(cmd: PlaceOrder, instrument: Instrument, base_price: Decimal | None) -> None:
    has_tpsl = cmd.take_profit is not None or cmd.stop_loss is not None
    if instrument.category is Category.SPOT:
        if cmd.reduce_only:
            raise UnsupportedForCategory("reduceOnly applies to linear perpetuals only, not spot")
        if has_tpsl:
            raise UnsupportedForCategory("takeProfit / stopLoss apply to linear perpetuals only, not spot")
        return
    if not has_tpsl:
        return
    if cmd.reduce_only:
        raise InvalidTpSl("a reduce-only order cannot carry takeProfit / stopLoss")
    check_tpsl_prices(instrument, cmd.side, base_price, cmd.take_profit, cmd.stop_loss)


def check_tpsl_prices(
    instrument: Instrument,
    side: Side,
    base_price: Decimal | None,
    take_profit: Decimal | None,
    stop_loss: Decimal | None,
) -> None:
    """TP/SL for a long (`side` Buy) must sit above / below `base_price`; the reverse for a short.

    Raises:
        InvalidTpSl, PriceOffTick, PriceOutOfRange.
    """
    for name, value in (("takeProfit", take_profit), ("stopLoss", stop_loss)):
        if value is None:
            continue
        instrument.check_price(to_decimal(value, name), name)
        if base_price is None:
            continue
        above = (name == "takeProfit") == (side is Side.BUY)
        if above and value <= base_price:
            raise InvalidTpSl(
                f"{name} {money_str(value)} must be above {money_str(base_price)} for a "
                f"{'long' if side is Side.BUY else 'short'}"
            )
        if not above and value >= base_price:
            raise InvalidTpSl(
                f"{name} {money_str(value)} must be below {money_str(base_price)} for a "
                f"{'long' if side is Side.BUY else 'short'}"
            )


def command_from_order(order: Order) -> PlaceOrder:
    """The `PlaceOrder` that records `order` as it was placed (to queue a recorded order again)."""
    return PlaceOrder(
        account_id=order.account_id,
        symbol=order.symbol,
        side=order.side,
        order_type=order.order_type,
        qty=order.qty,
        price=order.price,
        time_in_force=order.time_in_force,
        category=order.category,
        trigger_price=order.trigger_price,
        trigger_direction=order.trigger_direction,
        trigger_by=order.trigger_by,
        reduce_only=order.reduce_only,
        close_on_trigger=order.close_on_trigger,
        take_profit=order.take_profit,
        stop_loss=order.stop_loss,
        tp_trigger_by=order.tp_trigger_by,
        sl_trigger_by=order.sl_trigger_by,
        order_link_id=order.order_link_id,
        order_id=order.order_id,
    )
