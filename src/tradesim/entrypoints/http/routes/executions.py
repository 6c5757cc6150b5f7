"""GET /api/v1/executions?accountId=."""

from __future__ import annotations

from dependency_injector.wiring import Provide, inject
from quart import Blueprint
from quart_schema import security_scheme_blueprint, tag_blueprint, validate_querystring, validate_response

from tradesim.application.portfolio import PortfolioQueries
from tradesim.entrypoints.container import Container
from tradesim.entrypoints.http import presenters
from tradesim.entrypoints.http.openapi import errors
from tradesim.entrypoints.http.schemas.common import AccountQuery
from tradesim.entrypoints.http.schemas.positions import ExecutionList
from tradesim.entrypoints.http.security import BEARER, current_user, require_user

bp = require_user(Blueprint("executions", __name__, url_prefix="/api/v1/executions"))
tag_blueprint(bp, ["positions"])
security_scheme_blueprint(bp, BEARER)


@bp.get("")
@errors(404)
@validate_querystring(AccountQuery)
@validate_response(ExecutionList, 200)
@inject
async def list_executions(
    query_args: AccountQuery, portfolio: PortfolioQueries = Provide[Container.portfolio]
) -> ExecutionList:
    """The account's fills, newest first."""
    found = await portfolio.executions(current_user(), query_args.accountId, limit=query_args.limit)
    return ExecutionList(list=[presenters.execution(e) for e in found])
