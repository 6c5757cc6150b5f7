"""`register(app, container)`: the one place the app takes the Bybit-compatible api in."""

from __future__ import annotations

import structlog
from quart import Blueprint, Quart, Response
from quart_schema import hide
from werkzeug.exceptions import HTTPException

from tradesim.entrypoints.container import Container
from tradesim.entrypoints.http.bybit import account, market, position, trade
from tradesim.entrypoints.http.bybit.context import BybitServices
from tradesim.entrypoints.http.bybit.envelope import PARAMS, ROUTE, SERVER, UNEXPECTED_MESSAGE, refusal
from tradesim.entrypoints.http.bybit.limits import KeyLimits
from tradesim.entrypoints.http.bybit.sockets import BybitSocketEndpoint

log = structlog.get_logger("tradesim.api")

PREFIX = "/v5"
ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


def _blueprint() -> Blueprint:
    v5 = Blueprint("bybit", __name__, url_prefix=PREFIX)
    for child in (
        market.bp,
        trade.bp,
        position.bp,
        account.account_bp,
        account.execution_bp,
        account.user_bp,
        account.asset_bp,
    ):
        v5.register_blueprint(child)

    @v5.route("/<path:rest>", methods=ALL_METHODS)
    @hide
    async def unknown_route(rest: str) -> Response:
        return refusal(ROUTE, f"route not found: /v5/{rest}")

    @v5.errorhandler(HTTPException)
    async def http_error(error: HTTPException) -> Response:
        # Routing and body-size refusals of the app still answer in Bybit's envelope.
        if error.code == 404:
            return refusal(ROUTE, "route not found")
        return refusal(PARAMS if (error.code or 500) < 500 else SERVER, f"params error: {error.description}")

    @v5.errorhandler(Exception)
    async def unexpected(error: Exception) -> Response:
        # Still Bybit's envelope (pybit fails on any status but 200 without reading the body).
        log.exception("unhandled_error", error_type=type(error).__name__)
        return refusal(SERVER, UNEXPECTED_MESSAGE)

    return v5


def register_bybit(app: Quart, container: Container) -> None:
    app.extensions["bybit"] = BybitServices(
        orders=container.orders(),
        portfolio=container.portfolio(),
        prices=container.api.prices(),
        api_keys=container.api_keys(),
        catalog=container.core.catalog(),
        candles=container.candles(),
        tickers=container.api.tickers(),
        clock=container.core.clock(),
        limits=KeyLimits(container.messaging.rate_counters(), container.settings().bybit_rate_limit),
    )
    app.extensions["bybit_clock"] = app.extensions["bybit"].clock.now_ms
    app.register_blueprint(_blueprint())
    app.asgi_app = BybitSocketEndpoint(  # type: ignore[method-assign,assignment]
        app.asgi_app,  # type: ignore[arg-type]
        hub=container.api.hub(),
        feed=container.api.account_feed(),
        api_keys=app.extensions["bybit"].api_keys,
        sessions=container.api.sessions(),
        clock=app.extensions["bybit"].clock,
        symbols=tuple(container.settings().symbols),
    )
