"""`/v5/position/{list,set-leverage,switch-isolated,trading-stop,closed-pnl}`: translated to the
portfolio queries and order use cases that `/api/v1/positions` calls, for the key's account."""

from __future__ import annotations

from quart import Blueprint, Response

from tradesim.domain.commands import SetLeverage, SetTradingStop
from tradesim.domain.enums import MarginMode, TriggerBy
from tradesim.domain.order_rules import check_tpsl_prices
from tradesim.domain.positions import Position
from tradesim.entrypoints.http.bybit import records
from tradesim.entrypoints.http.bybit.context import caller, params, services, signed
from tradesim.entrypoints.http.bybit.envelope import LEVERAGE_NOT_MODIFIED, PARAMS, BybitRefusal, ok, page
from tradesim.entrypoints.http.bybit.paging import MAX_OFFSET, paginate

bp = Blueprint("bybit_position", __name__, url_prefix="/position")

TRIGGER_BYS = tuple(t.value for t in TriggerBy)


async def _position(symbol: str) -> Position | None:
    key = caller()
    every = await services().portfolio.positions(key.user_id, key.account_id, open_only=False)
    return next((p for p in every if p.symbol == symbol), None)


@bp.get("/list")
@signed()
async def position_list() -> Response:
    p = await params()
    category = p.category()
    symbol = p.text("symbol")
    p.text("settleCoin")
    limit = p.integer("limit", default=20, low=1, high=200)
    cursor = p.text("cursor")
    if category != "linear":
        return ok(page(category, []))
    key = caller()
    s = services()
    found = await s.portfolio.positions(key.user_id, key.account_id)
    if symbol:
        s.catalog.get(symbol)
        found = [x for x in found if x.symbol == symbol] or [Position(key.account_id, symbol)]
    marks = await s.prices.marks(key.account_id)
    items, next_cursor = paginate(found, limit, cursor)
    return ok(page(category, [records.position(x, marks) for x in items], next_cursor))


@bp.post("/set-leverage")
@signed(trade=True, group="position")
async def set_leverage() -> Response:
    p = await params()
    if p.category() != "linear":
        raise BybitRefusal(PARAMS, "params error: leverage is set on linear symbols only")
    symbol = p.text("symbol", required=True)
    leverage = p.decimal("buyLeverage", required=True)
    if leverage != p.decimal("sellLeverage", required=True):
        raise BybitRefusal(PARAMS, "params error: buyLeverage must equal sellLeverage in one-way mode")
    assert leverage is not None
    current = await _position(symbol)
    if current is not None and current.leverage == leverage:
        raise BybitRefusal(LEVERAGE_NOT_MODIFIED, "leverage not modified")
    key = caller()
    await services().orders.set_leverage(key.user_id, SetLeverage(key.account_id, symbol, leverage))
    return ok({})


@bp.post("/switch-isolated")
@signed(trade=True, group="position")
async def switch_isolated() -> Response:
    p = await params()
    if p.category() != "linear":
        raise BybitRefusal(PARAMS, "params error: margin mode is set on linear symbols only")
    symbol = p.text("symbol", required=True)
    mode = MarginMode.ISOLATED if p.integer("tradeMode", default=0, low=0, high=1) else MarginMode.CROSS
    leverage = p.decimal("buyLeverage", required=True)
    if leverage != p.decimal("sellLeverage", required=True):
        raise BybitRefusal(PARAMS, "params error: buyLeverage must equal sellLeverage in one-way mode")
    assert leverage is not None
    key = caller()
    await services().orders.set_leverage(key.user_id, SetLeverage(key.account_id, symbol, leverage, mode))
    return ok({})


@bp.post("/trading-stop")
@signed(trade=True, group="position")
async def trading_stop() -> Response:
    """Set or clear ("0") the position's take-profit and stop-loss (as `/api/v1/positions/trading-stop`)."""
    p = await params()
    if p.category() != "linear":
        raise BybitRefusal(PARAMS, "params error: trading stops are set on linear positions only")
    if p.integer("positionIdx", default=0, low=0, high=2) != 0:
        raise BybitRefusal(PARAMS, "position idx not match position mode: tradesim trades one-way mode")
    symbol = p.text("symbol", required=True)
    take_profit, stop_loss = p.decimal("takeProfit"), p.decimal("stopLoss")
    tp_by = TriggerBy(p.text("tpTriggerBy", choices=TRIGGER_BYS) or TriggerBy.LAST_PRICE.value)
    sl_by = TriggerBy(p.text("slTriggerBy", choices=TRIGGER_BYS) or TriggerBy.LAST_PRICE.value)
    key = caller()
    s = services()
    position = await s.portfolio.open_position(key.user_id, key.account_id, symbol)
    assert position.side is not None
    last_price = await s.prices.last_price(key.account_id, symbol)
    check_tpsl_prices(s.catalog.get(symbol), position.side, last_price, take_profit or None, stop_loss or None)
    cmd = SetTradingStop(key.account_id, symbol, take_profit, stop_loss, tp_trigger_by=tp_by, sl_trigger_by=sl_by)
    await s.orders.set_trading_stop(key.user_id, cmd)
    return ok({})


@bp.get("/closed-pnl")
@signed()
async def closed_pnl() -> Response:
    """One record per fill that closed position size, newest first."""
    p = await params()
    category = p.category()
    symbol = p.text("symbol")
    limit = p.integer("limit", default=50, low=1, high=100)
    cursor = p.text("cursor")
    start = p.integer("startTime", default=0, low=0, high=2**53)
    end = p.integer("endTime", default=2**53, low=0, high=2**53)
    if category != "linear":
        return ok(page(category, []))
    key = caller()
    s = services()
    fills = await s.portfolio.executions(key.user_id, key.account_id, limit=MAX_OFFSET + limit + 1)
    closing = [
        e
        for e in fills
        if e.closed_size
        and e.category.value == category
        and (not symbol or e.symbol == symbol)
        and start <= e.exec_time <= end
    ]
    leverages = {
        x.symbol: x.leverage for x in await s.portfolio.positions(key.user_id, key.account_id, open_only=False)
    }
    items, next_cursor = paginate(closing, limit, cursor)
    return ok(page(category, [records.closed_pnl(e, leverages.get(e.symbol)) for e in items], next_cursor))
