"""GET /api/v1/candles?symbol=&interval=&start=&end=."""

from __future__ import annotations

from dependency_injector.wiring import Provide, inject
from quart import Blueprint
from quart_schema import tag_blueprint, validate_querystring, validate_response

from tradesim.application.market import CandleQueries
from tradesim.entrypoints.container import Container
from tradesim.entrypoints.http import presenters
from tradesim.entrypoints.http.openapi import errors
from tradesim.entrypoints.http.schemas.market import CandleList, CandleQuery

bp = Blueprint("candles", __name__, url_prefix="/api/v1/candles")
tag_blueprint(bp, ["market"])


@bp.get("")
@errors(422)
@validate_querystring(CandleQuery)
@validate_response(CandleList, 200)
@inject
async def list_candles(query_args: CandleQuery, candles: CandleQueries = Provide[Container.candles]) -> CandleList:
    """Closed bars with start <= open time < end (epoch ms), ascending; at most 1000 per request."""
    q = query_args
    found = await candles.range(q.symbol, q.interval, q.start, q.end)
    return CandleList(symbol=q.symbol, interval=q.interval, list=[presenters.candle(c) for c in found])
