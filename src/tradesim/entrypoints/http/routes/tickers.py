"""GET /api/v1/tickers/{symbol}."""

from __future__ import annotations

from dependency_injector.wiring import Provide, inject
from quart import Blueprint
from quart_schema import tag_blueprint, validate_response

from tradesim.domain.errors import NotFound
from tradesim.entrypoints.container import Container
from tradesim.entrypoints.http import presenters
from tradesim.entrypoints.http.openapi import errors
from tradesim.entrypoints.http.schemas.market import TickerOut
from tradesim.entrypoints.http.tickers import TickerCache
from tradesim.ports.errors import DependencyUnavailable

bp = Blueprint("tickers", __name__, url_prefix="/api/v1/tickers")
tag_blueprint(bp, ["market"])


@bp.get("/<symbol:symbol>")
@errors(404)
@validate_response(TickerOut, 200)
@inject
async def get_ticker(symbol: str, tickers: TickerCache = Provide[Container.api.tickers]) -> TickerOut:
    """The latest prices of a streamed symbol (503 until the feed has delivered one)."""
    if symbol not in tickers.symbols:
        raise NotFound(f"{symbol} is not streamed; streamed symbols: {', '.join(tickers.symbols)}")
    ticker = tickers.get(symbol)
    if ticker is None:
        raise DependencyUnavailable(f"no {symbol} price has arrived from the market feed yet")
    return presenters.ticker(ticker)
