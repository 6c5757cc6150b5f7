"""POST/GET /api/v1/orders, GET/PATCH/DELETE /api/v1/orders/{orderId}."""

from __future__ import annotations

from dependency_injector.wiring import Provide, inject
from quart import Blueprint
from quart_schema import (
    security_scheme_blueprint,
    tag_blueprint,
    validate_querystring,
    validate_request,
    validate_response,
)

from tradesim.application.orders import OrderService
from tradesim.domain.commands import AmendOrder, PlaceOrder
from tradesim.domain.enums import Category, OrderType, Side, TimeInForce, TriggerBy, TriggerDirection
from tradesim.domain.numbers import to_decimal
from tradesim.entrypoints.container import Container
from tradesim.entrypoints.http import presenters
from tradesim.entrypoints.http.observability import ApiMetrics
from tradesim.entrypoints.http.openapi import errors
from tradesim.entrypoints.http.schemas.orders import OrderAmend, OrderCreate, OrderList, OrderOut, OrderQuery
from tradesim.entrypoints.http.security import BEARER, current_user, require_user

bp = require_user(Blueprint("orders", __name__, url_prefix="/api/v1/orders"))
tag_blueprint(bp, ["orders"])
security_scheme_blueprint(bp, BEARER)


def _dec(value: str | None, field: str):  # type: ignore[no-untyped-def]
    return None if value is None else to_decimal(value, field)


def place_command(data: OrderCreate) -> PlaceOrder:
    return PlaceOrder(
        account_id=data.accountId,
        symbol=data.symbol,
        side=Side(data.side),
        order_type=OrderType(data.orderType),
        qty=to_decimal(data.qty, "qty"),
        price=_dec(data.price, "price"),
        time_in_force=TimeInForce(data.timeInForce) if data.timeInForce else None,
        category=Category(data.category),
        trigger_price=_dec(data.triggerPrice, "triggerPrice"),
        trigger_direction=TriggerDirection(data.triggerDirection) if data.triggerDirection else None,
        trigger_by=TriggerBy(data.triggerBy),
        reduce_only=data.reduceOnly,
        close_on_trigger=data.closeOnTrigger,
        take_profit=_dec(data.takeProfit, "takeProfit"),
        stop_loss=_dec(data.stopLoss, "stopLoss"),
        tp_trigger_by=TriggerBy(data.tpTriggerBy),
        sl_trigger_by=TriggerBy(data.slTriggerBy),
        order_link_id=data.orderLinkId or "",
    )


@bp.post("")
@errors(404, 422)
@validate_request(OrderCreate)
@validate_response(OrderOut, 201)
@validate_response(OrderOut, 200)
@inject
async def place_order(
    data: OrderCreate,
    orders: OrderService = Provide[Container.orders],
    metrics: ApiMetrics = Provide[Container.api.metrics],
) -> tuple[OrderOut, int]:
    """Check an order against the instrument's rules, record it as New (or Untriggered) and queue it.

    201 with the new order; 200 with the first order when `orderLinkId` repeats one of the account's.
    The fill arrives on the WebSocket (`order`, `execution`) and in GET /api/v1/orders/{orderId}.
    An order of a replay account is checked against its replay's last price, fills on the replay's
    bars, and may only be on the symbol the replay plays (else 422 `NOT_REPLAY_SYMBOL`).
    """
    placed = await orders.place(current_user(), place_command(data))
    if placed.created:
        metrics.orders_accepted.inc()
    return presenters.order(placed.order), 201 if placed.created else 200


@bp.get("")
@errors(404)
@validate_querystring(OrderQuery)
@validate_response(OrderList, 200)
@inject
async def list_orders(query_args: OrderQuery, orders: OrderService = Provide[Container.orders]) -> OrderList:
    """The account's orders, newest first; `openOnly` keeps New, PartiallyFilled and Untriggered ones."""
    q = query_args
    found = await orders.list(current_user(), q.accountId, open_only=q.openOnly, limit=q.limit)
    return OrderList(list=[presenters.order(o) for o in found])


@bp.get("/<id:order_id>")
@errors(404)
@validate_response(OrderOut, 200)
@inject
async def get_order(order_id: str, orders: OrderService = Provide[Container.orders]) -> OrderOut:
    """One order of the caller's."""
    return presenters.order(await orders.get(current_user(), order_id))


@bp.patch("/<id:order_id>")
@errors(404, 409, 422)
@validate_request(OrderAmend)
@validate_response(OrderOut, 202)
@inject
async def amend_order(
    order_id: str, data: OrderAmend, orders: OrderService = Provide[Container.orders]
) -> tuple[OrderOut, int]:
    """Queue a change to an open order; the engine confirms it on the `order` topic. Returns the order as it was."""
    cmd = AmendOrder(
        account_id="",
        order_id=order_id,
        symbol="",
        qty=_dec(data.qty, "qty"),
        price=_dec(data.price, "price"),
        trigger_price=_dec(data.triggerPrice, "triggerPrice"),
        take_profit=_dec(data.takeProfit, "takeProfit"),
        stop_loss=_dec(data.stopLoss, "stopLoss"),
    )
    return presenters.order(await orders.amend(current_user(), cmd)), 202


@bp.delete("/<id:order_id>")
@errors(404, 409)
@validate_response(OrderOut, 202)
@inject
async def cancel_order(order_id: str, orders: OrderService = Provide[Container.orders]) -> tuple[OrderOut, int]:
    """Queue a cancel of an open order; the engine confirms it on the `order` topic. Returns the order as it was."""
    return presenters.order(await orders.cancel(current_user(), order_id)), 202
