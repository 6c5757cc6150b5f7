"""`/v5/order/{create,amend,cancel,cancel-all,realtime,history}`: translated to the order use cases
that `/api/v1/orders` calls (`OrderService`), for the key's one account."""

from __future__ import annotations

from decimal import Decimal

import attrs
from quart import Blueprint, Response

from tradesim.domain.api_keys import ApiKey
from tradesim.domain.commands import AmendOrder, PlaceOrder
from tradesim.domain.enums import Category, OrderStatus, OrderType, Side, TimeInForce, TriggerBy, TriggerDirection
from tradesim.domain.errors import NotFound
from tradesim.domain.numbers import round_to_step
from tradesim.domain.orders import Order
from tradesim.entrypoints.http.bybit import records
from tradesim.entrypoints.http.bybit.context import BybitServices, caller, params, services, signed
from tradesim.entrypoints.http.bybit.envelope import ORDER_NOT_FOUND, PARAMS, BybitRefusal, ok, page
from tradesim.entrypoints.http.bybit.paging import MAX_OFFSET, offset_of, paginate
from tradesim.entrypoints.http.bybit.params import Params

PREFIX = "/order"
bp = Blueprint("bybit_trade", __name__, url_prefix=PREFIX)
#: `/order/create`'s rule and how it is checked: a trade, counted in the order group.
CREATE = "/create"
CREATE_TRADES = True
CREATE_GROUP = "order"

SIDES = tuple(s.value for s in Side)
ORDER_TYPES = tuple(t.value for t in OrderType)
TIMES_IN_FORCE = tuple(t.value for t in TimeInForce)
TRIGGER_BYS = tuple(t.value for t in TriggerBy)


def _trigger_by(p: Params, name: str) -> TriggerBy:
    # Bybit also has IndexPrice; tradesim triggers on last or mark price only.
    return TriggerBy(p.text(name, choices=TRIGGER_BYS) or TriggerBy.LAST_PRICE.value)


def _one_way(p: Params) -> None:
    if p.integer("positionIdx", default=0, low=0, high=2) != 0:
        raise BybitRefusal(PARAMS, "position idx not match position mode: tradesim trades one-way mode (positionIdx 0)")


def place_command(p: Params, account_id: str) -> PlaceOrder:
    _one_way(p)
    direction = p.integer("triggerDirection", default=0, low=0, high=2)
    time_in_force = p.text("timeInForce", choices=TIMES_IN_FORCE)
    link_id = p.text("orderLinkId")
    if len(link_id) > 36:
        raise BybitRefusal(PARAMS, "params error: orderLinkId is at most 36 characters")
    return PlaceOrder(
        account_id=account_id,
        symbol=p.text("symbol", required=True),
        side=Side(p.text("side", required=True, choices=SIDES)),
        order_type=OrderType(p.text("orderType", required=True, choices=ORDER_TYPES)),
        qty=p.decimal("qty", required=True) or Decimal(0),
        price=p.decimal("price"),
        time_in_force=TimeInForce(time_in_force) if time_in_force else None,
        category=p.traded_category(),
        trigger_price=p.decimal("triggerPrice") or None,
        trigger_direction=TriggerDirection(direction) if direction else None,
        trigger_by=_trigger_by(p, "triggerBy"),
        reduce_only=p.boolean("reduceOnly"),
        close_on_trigger=p.boolean("closeOnTrigger"),
        take_profit=p.decimal("takeProfit") or None,
        stop_loss=p.decimal("stopLoss") or None,
        tp_trigger_by=_trigger_by(p, "tpTriggerBy"),
        sl_trigger_by=_trigger_by(p, "slTriggerBy"),
        order_link_id=link_id,
    )


async def own_order(p: Params) -> Order:
    """The order named by `orderId` or `orderLinkId`, of the key's account; 110001 for any other."""
    key = caller()
    orders = services().orders
    order_id, link_id = p.text("orderId"), p.text("orderLinkId")
    found: Order | None
    if order_id:
        try:
            found = await orders.get(key.user_id, order_id)
        except NotFound:
            found = None
    elif link_id:
        found = await orders.find_by_link_id(key.user_id, key.account_id, link_id)
    else:
        raise BybitRefusal(PARAMS, "params error: orderId or orderLinkId is required")
    if found is None or found.account_id != key.account_id:
        raise BybitRefusal(ORDER_NOT_FOUND, "order not exists or too late to cancel")
    return found


def _ids(order: Order) -> dict[str, str]:
    return {"orderId": order.order_id, "orderLinkId": order.order_link_id}


def _spot_market_buy_in_base(s: BybitServices, cmd: PlaceOrder, p: Params, last_price: Decimal | None) -> PlaceOrder:
    """Bybit takes a spot market buy's `qty` in the quote coin unless `marketUnit` is `baseCoin`;
    tradesim's orders are in the base coin: the quote amount becomes the base quantity it buys at
    the last price, down to the quantity step (the engine still checks it as any order)."""
    unit = p.text("marketUnit", choices=("baseCoin", "quoteCoin"))
    is_quote = cmd.category is Category.SPOT and cmd.order_type is OrderType.MARKET
    if not is_quote or unit == "baseCoin" or (unit == "" and cmd.side is Side.SELL):
        return cmd
    if last_price is None:
        raise BybitRefusal(PARAMS, "params error: no price yet to turn a quote-coin qty into the base coin")
    step = s.catalog.get(cmd.symbol, cmd.category).qty_step
    return attrs.evolve(cmd, qty=round_to_step(cmd.qty / last_price, step, up=False))


async def create_order(s: BybitServices, key: ApiKey, p: Params) -> dict[str, str]:
    """The order `p` asks for placed on the key's account: its ids (what `/v5/order/create` answers,
    here and in `order_create.BybitOrderCreate`)."""
    cmd = place_command(p, key.account_id)
    last_price = await s.prices.last_price(key.account_id, cmd.symbol, cmd.category)
    cmd = _spot_market_buy_in_base(s, cmd, p, last_price)
    placed = await s.orders.place(key.user_id, cmd, last_price=last_price)
    return _ids(placed.order)


@bp.post(CREATE)
@signed(trade=CREATE_TRADES, group=CREATE_GROUP)
async def create() -> Response:
    return ok(await create_order(services(), caller(), await params()))


@bp.post("/amend")
@signed(trade=True, group="order")
async def amend() -> Response:
    p = await params()
    p.traded_category()
    order = await own_order(p)
    cmd = AmendOrder(
        account_id=order.account_id,
        order_id=order.order_id,
        symbol=order.symbol,
        qty=p.decimal("qty"),
        price=p.decimal("price"),
        trigger_price=p.decimal("triggerPrice"),
        take_profit=p.decimal("takeProfit"),
        stop_loss=p.decimal("stopLoss"),
    )
    await services().orders.amend(caller().user_id, cmd)
    return ok(_ids(order))


@bp.post("/cancel")
@signed(trade=True, group="order")
async def cancel() -> Response:
    p = await params()
    p.traded_category()
    order = await own_order(p)
    if not order.status.is_open:
        raise BybitRefusal(ORDER_NOT_FOUND, "order not exists or too late to cancel")
    await services().orders.cancel(caller().user_id, order.order_id)
    return ok(_ids(order))


@bp.post("/cancel-all")
@signed(trade=True, group="order")
async def cancel_all() -> Response:
    p = await params()
    category = p.traded_category()
    symbol = p.text("symbol")
    key = caller()
    orders = services().orders
    open_orders = await orders.list(key.user_id, key.account_id, open_only=True, limit=1000)
    cancelled = []
    for order in open_orders:
        if order.category is category and (not symbol or order.symbol == symbol):
            await orders.cancel(key.user_id, order.order_id)
            cancelled.append(_ids(order))
    return ok({"list": cancelled, "success": "1"})


def _matches(order: Order, category: str, p: Params) -> bool:
    symbol = p.text("symbol")
    return order.category.value == category and (not symbol or order.symbol == symbol)


async def _named_order(p: Params, category: str) -> list[dict[str, object]]:
    """The order `orderId` or `orderLinkId` names, as a list of its record: empty when it is not the
    key's account's or not of `category` and the request's symbol (Bybit lists nothing, no error)."""
    try:
        found = await own_order(p)
    except BybitRefusal:
        return []
    return [records.order(found)] if _matches(found, category, p) else []


@bp.get("/realtime")
@signed()
async def realtime() -> Response:
    """With an id: that order in any state (ccxt's `fetch_order` asks only here). Without: open orders."""
    p = await params()
    category = p.category()
    limit = p.integer("limit", default=20, low=1, high=50)
    cursor = p.text("cursor")
    p.text("settleCoin")
    if category not in ("linear", "spot"):
        return ok(page(category, []))
    if p.text("orderId") or p.text("orderLinkId"):
        return ok(page(category, await _named_order(p, category)))
    key = caller()
    depth = offset_of(cursor) + limit + 1
    open_orders = await services().orders.list(key.user_id, key.account_id, open_only=True, limit=depth)
    items, next_cursor = paginate([o for o in open_orders if _matches(o, category, p)], limit, cursor)
    return ok(page(category, [records.order(o) for o in items], next_cursor))


@bp.get("/history")
@signed()
async def history() -> Response:
    """Orders that ended (or the one named), newest first."""
    p = await params()
    category = p.category()
    limit = p.integer("limit", default=20, low=1, high=50)
    cursor = p.text("cursor")
    status = p.text("orderStatus", choices=tuple(s.value for s in OrderStatus))
    start = p.integer("startTime", default=0, low=0, high=2**53)
    end = p.integer("endTime", default=2**53, low=0, high=2**53)
    if category not in ("linear", "spot"):
        return ok(page(category, []))
    if p.text("orderId") or p.text("orderLinkId"):
        return ok(page(category, await _named_order(p, category)))
    key = caller()
    everything = await services().orders.list(key.user_id, key.account_id, limit=MAX_OFFSET + limit + 1)
    ended = [
        o
        for o in everything
        if _matches(o, category, p)
        and (o.status.value == status if status else not o.status.is_open)
        and start <= o.created_time <= end
    ]
    items, next_cursor = paginate(ended, limit, cursor)
    return ok(page(category, [records.order(o) for o in items], next_cursor))
