"""GET /api/v1/instruments."""

from __future__ import annotations

from dependency_injector.wiring import Provide, inject
from quart import Blueprint
from quart_schema import tag_blueprint, validate_querystring, validate_response

from tradesim.domain.enums import Category
from tradesim.domain.instruments import InstrumentCatalog
from tradesim.entrypoints.container import Container
from tradesim.entrypoints.http import presenters
from tradesim.entrypoints.http.schemas.market import InstrumentList, InstrumentQuery

bp = Blueprint("instruments", __name__, url_prefix="/api/v1/instruments")
tag_blueprint(bp, ["market"])


@bp.get("")
@validate_querystring(InstrumentQuery)
@validate_response(InstrumentList, 200)
@inject
async def list_instruments(
    query_args: InstrumentQuery, catalog: InstrumentCatalog = Provide[Container.core.catalog]
) -> InstrumentList:
    """Tradable instruments with their rules (tick size, qty step, limits, fees), as Bybit's instruments-info."""
    wanted = Category(query_args.category) if query_args.category else None
    return InstrumentList(list=[presenters.instrument(i) for i in catalog if wanted is None or i.category is wanted])
