"""GET /api/v1/strategies; POST/GET /api/v1/strategy-runs, GET/DELETE /api/v1/strategy-runs/{runId}.

Thin over `StrategyRunService`: the api checks a run against the catalogue the workers published
and stores it queued; a worker runs it. Progress and the final result also come on the socket
topic `strategy-run.{runId}`. The api never imports Jesse.
"""

from __future__ import annotations

from typing import Any

from dependency_injector.wiring import Provide, inject
from quart import Blueprint
from quart_schema import (
    security_scheme_blueprint,
    tag_blueprint,
    validate_querystring,
    validate_request,
    validate_response,
)

from tradesim.application.strategy_runs import StrategyRunService, run_json
from tradesim.domain.strategy_runs import StrategyRun
from tradesim.domain.strategy_specs import StrategySpec
from tradesim.entrypoints.container import Container
from tradesim.entrypoints.http.openapi import errors
from tradesim.entrypoints.http.schemas.strategy_runs import (
    HyperparameterOut,
    RoundTripOut,
    StrategyList,
    StrategyOut,
    StrategyRunCreate,
    StrategyRunList,
    StrategyRunOut,
    StrategyRunQuery,
)
from tradesim.entrypoints.http.security import BEARER, current_user, require_user

bp = require_user(Blueprint("strategy_runs", __name__, url_prefix="/api/v1"))
tag_blueprint(bp, ["strategies"])
security_scheme_blueprint(bp, BEARER)


@bp.get("/strategies")
@errors(503)
@validate_response(StrategyList, 200)
@inject
async def list_strategies(runs: StrategyRunService = Provide[Container.strategies.service]) -> StrategyList:
    """The strategies the workers can run, with their timeframes and hyperparameters (name, type, bounds, default).

    503 `NO_STRATEGY_WORKER` before any worker with the jesse extra has started."""
    return StrategyList(list=[_strategy(spec) for spec in await runs.strategies()])


@bp.post("/strategy-runs")
@errors(409, 422, 503)
@validate_request(StrategyRunCreate)
@validate_response(StrategyRunOut, 202)
@inject
async def submit_run(
    data: StrategyRunCreate, runs: StrategyRunService = Provide[Container.strategies.service]
) -> tuple[StrategyRunOut, int]:
    """Queue a backtest; a worker runs it. 400 `UNKNOWN_TIMEFRAME`, `BAD_HYPERPARAMETER` (named), `INVALID_INPUT`
    (end not after start, leverage); 422 `UNKNOWN_STRATEGY`, `BROKEN_STRATEGY`, `UNKNOWN_SYMBOL`, `NO_HISTORY`
    (nothing stored in the range); 409 `QUOTA_EXCEEDED` (`TRADESIM_MAX_STRATEGY_RUNS_PER_USER` queued or running)."""
    run = await runs.submit(
        current_user(),
        data.strategy,
        data.symbol,
        data.timeframe,
        data.start,
        data.end,
        starting_balance=data.startingBalance,
        leverage=data.leverage,
        hyperparameters=data.hyperparameters,
    )
    return _run(run), 202


@bp.get("/strategy-runs")
@validate_querystring(StrategyRunQuery)
@validate_response(StrategyRunList, 200)
@inject
async def list_runs(
    query_args: StrategyRunQuery, runs: StrategyRunService = Provide[Container.strategies.service]
) -> StrategyRunList:
    """The caller's runs, newest first."""
    return StrategyRunList(list=[_run(r) for r in await runs.list(current_user(), limit=query_args.limit)])


@bp.get("/strategy-runs/<id:run_id>")
@errors(404)
@validate_response(StrategyRunOut, 200)
@inject
async def get_run(run_id: str, runs: StrategyRunService = Provide[Container.strategies.service]) -> StrategyRunOut:
    """One of the caller's runs: status, progress, and once finished its metrics, round trips and equity curve."""
    return _run(await runs.get(current_user(), run_id))


@bp.delete("/strategy-runs/<id:run_id>")
@errors(404, 409)
@validate_response(StrategyRunOut, 200)
@inject
async def cancel_run(run_id: str, runs: StrategyRunService = Provide[Container.strategies.service]) -> StrategyRunOut:
    """Cancel a queued or running run (a running one stops at its worker's next chunk of bars).

    409 `RUN_NOT_ACTIVE` when it has ended already."""
    return _run(await runs.cancel(current_user(), run_id))


def _strategy(spec: StrategySpec) -> StrategyOut:
    body = spec.as_dict()
    return StrategyOut(
        name=body["name"],
        source=body["source"],
        timeframes=body["timeframes"],
        hyperparameters=[HyperparameterOut(**hp) for hp in body["hyperparameters"]],
        error=body.get("error"),
    )


def _run(run: StrategyRun) -> StrategyRunOut:
    """`run_json` is the one definition of the body; this gives it its documented type."""
    body: dict[str, Any] = run_json(run)
    trades = body.pop("trades", None)
    curve = body.pop("equityCurve", None)
    return StrategyRunOut(
        **body,
        trades=None if trades is None else [RoundTripOut(**t) for t in trades],
        equityCurve=None if curve is None else [(int(t), str(v)) for t, v in curve],
    )
