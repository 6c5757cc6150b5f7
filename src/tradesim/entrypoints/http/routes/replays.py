"""POST/GET /api/v1/replays, GET /api/v1/replays/{replayId}, POST /api/v1/replays/{replayId}/control.

Thin over `ReplayService` (`Container.replay.api_service`: controls reach the session's runner in
this process or through the inbox, as `ApiOptions.replay_dispatch` says). Trading inside a replay
goes through the usual order routes with the replay's `accountId`; its bars come on the socket
topic `replay.{replayId}`.
"""

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

from tradesim.application.limits import Rate, Throttle
from tradesim.application.replay.service import ReplayService
from tradesim.entrypoints.container import Container
from tradesim.entrypoints.http import presenters
from tradesim.entrypoints.http.openapi import errors
from tradesim.entrypoints.http.schemas.replays import ReplayControlIn, ReplayCreate, ReplayList, ReplayOut, ReplayQuery
from tradesim.entrypoints.http.security import BEARER, current_user, require_user
from tradesim.entrypoints.http.ws.account_feed import AccountFeed

HOUR_MS = 3_600_000

bp = require_user(Blueprint("replays", __name__, url_prefix="/api/v1/replays"))
tag_blueprint(bp, ["replays"])
security_scheme_blueprint(bp, BEARER)


@bp.post("")
@errors(422, 429)
@validate_request(ReplayCreate)
@validate_response(ReplayOut, 201)
@inject
async def create_replay(
    data: ReplayCreate,
    replays: ReplayService = Provide[Container.replay.api_service],
    feed: AccountFeed = Provide[Container.api.account_feed],
    throttle: Throttle = Provide[Container.throttle],
    per_hour: int = Provide[Container.settings.provided.replays_created_per_hour],
) -> tuple[ReplayOut, int]:
    """Start a paused Bar Replay session on a new replay account (`kind` "replay").

    Trade it with `POST /api/v1/orders` and its `accountId`; subscribe to `replay.{replayId}` on the
    socket for its bars. 422 `UNKNOWN_SYMBOL`, or `NO_HISTORY` when no candles are stored from `start` on.
    """
    user_id = current_user()
    # Each session opens an account; what bounds them is how fast they can be made.
    await throttle.check(Rate(f"replay:create:{user_id}", per_hour, HOUR_MS, what="replay sessions created"))
    view = await replays.create(
        user_id, data.symbol, data.start, data.speed, starting_balance=data.startingBalance, require_user=True
    )
    await feed.account_opened(user_id, view.session.account_id)
    return presenters.replay(view), 201


@bp.get("")
@validate_querystring(ReplayQuery)
@validate_response(ReplayList, 200)
@inject
async def list_replays(
    query_args: ReplayQuery, replays: ReplayService = Provide[Container.replay.api_service]
) -> ReplayList:
    """The caller's sessions, newest first (without `lastCandle` and `lastPrice`: GET one for those)."""
    found = await replays.list(current_user(), limit=query_args.limit)
    return ReplayList(list=[presenters.replay(v) for v in found])


@bp.get("/<id:replay_id>")
@errors(404)
@validate_response(ReplayOut, 200)
@inject
async def get_replay(replay_id: str, replays: ReplayService = Provide[Container.replay.api_service]) -> ReplayOut:
    """One of the caller's sessions: state, replay clock, the bar played last and the price it trades at."""
    return presenters.replay(await replays.get(current_user(), replay_id))


@bp.post("/<id:replay_id>/control")
@errors(404, 409, 422)
@validate_request(ReplayControlIn)
@validate_response(ReplayOut, 200)
@inject
async def control_replay(
    replay_id: str, data: ReplayControlIn, replays: ReplayService = Provide[Container.replay.api_service]
) -> ReplayOut:
    """Play, pause, step one bar (while paused), seek to `to` or change `speed`.

    409 `REPLAY_STATE_CONFLICT` when the action does not apply in the session's state (stepping while
    playing; playing or pausing a finished replay). 422 `NO_HISTORY` when seeking past stored history.
    Where replays run in workers, the answer is the session as the control leaves it and the bars
    arrive on `replay.{replayId}`; where they run in the api's process, it is the session after it.
    """
    view = await replays.control(current_user(), replay_id, data.action, to=data.to, speed=data.speed)
    return presenters.replay(view)
