"""POST/GET /api/v1/accounts, GET /api/v1/accounts/{accountId}."""

from __future__ import annotations

from dependency_injector.wiring import Provide, inject
from quart import Blueprint
from quart_schema import security_scheme_blueprint, tag_blueprint, validate_request, validate_response

from tradesim.application.accounts import AccountService
from tradesim.application.limits import Quotas
from tradesim.application.portfolio import PortfolioQueries
from tradesim.entrypoints.container import Container
from tradesim.entrypoints.http import presenters
from tradesim.entrypoints.http.openapi import errors
from tradesim.entrypoints.http.schemas.accounts import AccountCreate, AccountList, AccountOut
from tradesim.entrypoints.http.security import BEARER, current_user, require_user
from tradesim.entrypoints.http.tickers import TickerCache
from tradesim.entrypoints.http.ws.account_feed import AccountFeed

bp = require_user(Blueprint("accounts", __name__, url_prefix="/api/v1/accounts"))
tag_blueprint(bp, ["accounts"])
security_scheme_blueprint(bp, BEARER)


@bp.post("")
@errors(409)
@validate_request(AccountCreate)
@validate_response(AccountOut, 201)
@inject
async def create_account(
    data: AccountCreate,
    accounts: AccountService = Provide[Container.accounts],
    portfolio: PortfolioQueries = Provide[Container.portfolio],
    tickers: TickerCache = Provide[Container.api.tickers],
    feed: AccountFeed = Provide[Container.api.account_feed],
    quotas: Quotas = Provide[Container.core.quotas],
) -> tuple[AccountOut, int]:
    """Open a simulated USDT account funded with `startingBalance` (default 10000).

    409 `QUOTA_EXCEEDED` when the user already has `TRADESIM_MAX_ACCOUNTS_PER_USER` live accounts."""
    user_id = current_user()
    # Replay accounts come with their sessions (bounded by their own quota), so live ones count here.
    quotas.accounts.check(sum(a.kind == "live" for a in await accounts.list(user_id)))
    account = await accounts.open(user_id, data.name, data.startingBalance, require_user=True)
    await feed.account_opened(user_id, account.account_id)
    _, view = await portfolio.account(user_id, account.account_id, tickers.marks())
    return presenters.account(account, view), 201


@bp.get("")
@validate_response(AccountList, 200)
@inject
async def list_accounts(
    portfolio: PortfolioQueries = Provide[Container.portfolio],
    tickers: TickerCache = Provide[Container.api.tickers],
) -> AccountList:
    """The caller's accounts with their wallet figures at the latest mark prices."""
    found = await portfolio.accounts(current_user(), tickers.marks())
    return AccountList(list=[presenters.account(a, v) for a, v in found])


@bp.get("/<id:account_id>")
@errors(404)
@validate_response(AccountOut, 200)
@inject
async def get_account(
    account_id: str,
    portfolio: PortfolioQueries = Provide[Container.portfolio],
    tickers: TickerCache = Provide[Container.api.tickers],
) -> AccountOut:
    """One of the caller's accounts; another user's account is a 404."""
    account, view = await portfolio.account(current_user(), account_id, tickers.marks())
    return presenters.account(account, view)
