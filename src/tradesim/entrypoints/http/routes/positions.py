"""GET /api/v1/positions, POST /api/v1/positions/trading-stop, POST /api/v1/positions/leverage."""

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
from tradesim.application.portfolio import PortfolioQueries
from tradesim.domain.commands import SetLeverage, SetTradingStop
from tradesim.domain.enums import MarginMode, TriggerBy
from tradesim.domain.instruments import InstrumentCatalog
from tradesim.domain.numbers import to_decimal
from tradesim.domain.order_rules import check_tpsl_prices
from tradesim.entrypoints.container import Container
from tradesim.entrypoints.http import presenters
from tradesim.entrypoints.http.openapi import errors
from tradesim.entrypoints.http.schemas.positions import (
    CommandQueued,
    LeverageIn,
    PositionList,
    PositionQuery,
    TradingStopIn,
)
from tradesim.entrypoints.http.security import BEARER, current_user, require_user
from tradesim.ports.prices import PriceSource

bp = require_user(Blueprint("positions", __name__, url_prefix="/api/v1/positions"))
tag_blueprint(bp, ["positions"])
security_scheme_blueprint(bp, BEARER)


@bp.get("")
@errors(404)
@validate_querystring(PositionQuery)
@validate_response(PositionList, 200)
@inject
async def list_positions(
    query_args: PositionQuery,
    portfolio: PortfolioQueries = Provide[Container.portfolio],
    prices: PriceSource = Provide[Container.api.prices],
) -> PositionList:
    """Open positions of the account, with mark price and unrealised PnL (a replay account's at its replay's price)."""
    found = await portfolio.positions(current_user(), query_args.accountId)
    marks = await prices.marks(query_args.accountId)
    return PositionList(list=[presenters.position(p, marks) for p in found])


@bp.post("/trading-stop")
@errors(404, 422)
@validate_request(TradingStopIn)
@validate_response(CommandQueued, 202)
@inject
async def trading_stop(
    data: TradingStopIn,
    orders: OrderService = Provide[Container.orders],
    portfolio: PortfolioQueries = Provide[Container.portfolio],
    prices: PriceSource = Provide[Container.api.prices],
    catalog: InstrumentCatalog = Provide[Container.core.catalog],
) -> tuple[CommandQueued, int]:
    """Set or remove ("0") the open position's take-profit and stop-loss; the change arrives on `position`."""
    user_id = current_user()
    position = await portfolio.open_position(user_id, data.accountId, data.symbol)
    take_profit = None if data.takeProfit is None else to_decimal(data.takeProfit, "takeProfit")
    stop_loss = None if data.stopLoss is None else to_decimal(data.stopLoss, "stopLoss")
    assert position.side is not None
    last_price = await prices.last_price(data.accountId, data.symbol)
    check_tpsl_prices(catalog.get(data.symbol), position.side, last_price, take_profit or None, stop_loss or None)
    cmd = SetTradingStop(
        account_id=data.accountId,
        symbol=data.symbol,
        take_profit=take_profit,
        stop_loss=stop_loss,
        tp_trigger_by=TriggerBy(data.tpTriggerBy),
        sl_trigger_by=TriggerBy(data.slTriggerBy),
    )
    await orders.set_trading_stop(user_id, cmd)
    return CommandQueued(accountId=data.accountId, symbol=data.symbol), 202


@bp.post("/leverage")
@errors(404, 422)
@validate_request(LeverageIn)
@validate_response(CommandQueued, 202)
@inject
async def set_leverage(data: LeverageIn, orders: OrderService = Provide[Container.orders]) -> tuple[CommandQueued, int]:
    """Set the symbol's leverage (and margin mode: `tradeMode` 0 cross, 1 isolated) while it has no position."""
    mode = None if data.tradeMode is None else (MarginMode.CROSS if data.tradeMode == 0 else MarginMode.ISOLATED)
    cmd = SetLeverage(data.accountId, data.symbol, to_decimal(data.leverage, "leverage"), mode)
    await orders.set_leverage(current_user(), cmd)
    return CommandQueued(accountId=data.accountId, symbol=data.symbol), 202
