"""GET /api/v1/ledger?accountId=."""

from __future__ import annotations

from dependency_injector.wiring import Provide, inject
from quart import Blueprint
from quart_schema import security_scheme_blueprint, tag_blueprint, validate_querystring, validate_response

from tradesim.application.portfolio import PortfolioQueries
from tradesim.entrypoints.container import Container
from tradesim.entrypoints.http import presenters
from tradesim.entrypoints.http.openapi import errors
from tradesim.entrypoints.http.schemas.common import AccountQuery
from tradesim.entrypoints.http.schemas.positions import LedgerList
from tradesim.entrypoints.http.security import BEARER, current_user, require_user

bp = require_user(Blueprint("ledger", __name__, url_prefix="/api/v1/ledger"))
tag_blueprint(bp, ["positions"])
security_scheme_blueprint(bp, BEARER)


@bp.get("")
@errors(404)
@validate_querystring(AccountQuery)
@validate_response(LedgerList, 200)
@inject
async def list_ledger(
    query_args: AccountQuery, portfolio: PortfolioQueries = Provide[Container.portfolio]
) -> LedgerList:
    """Every change to the account's balances (transfers, fees, realised PnL, funding), newest first."""
    found = await portfolio.ledger(current_user(), query_args.accountId, limit=query_args.limit)
    return LedgerList(list=[presenters.ledger_entry(e) for e in found])
