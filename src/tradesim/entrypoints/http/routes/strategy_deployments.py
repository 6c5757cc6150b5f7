"""POST/GET /api/v1/strategy-deployments, GET /api/v1/strategy-deployments/{id}, POST .../{id}/stop.

Thin over `DeploymentService`; the strategies run in the workers. A deployment's orders,
executions, positions and wallet show on the account's usual routes and socket topics.
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

from tradesim.application.deployments import DeploymentService
from tradesim.domain.strategy_deployment import StrategyDeployment
from tradesim.entrypoints.container import Container
from tradesim.entrypoints.http.openapi import errors
from tradesim.entrypoints.http.schemas.strategy_deployments import (
    DeploymentCreate,
    DeploymentList,
    DeploymentOut,
    DeploymentQuery,
)
from tradesim.entrypoints.http.security import BEARER, current_user, require_user

bp = require_user(Blueprint("strategy_deployments", __name__, url_prefix="/api/v1/strategy-deployments"))
tag_blueprint(bp, ["strategies"])
security_scheme_blueprint(bp, BEARER)


def present(d: StrategyDeployment) -> DeploymentOut:
    return DeploymentOut(
        deploymentId=d.deployment_id,
        strategy=d.strategy,
        accountId=d.account_id,
        symbol=d.symbol,
        timeframe=d.timeframe,
        hyperparameters=dict(d.hyperparameters),
        status=d.status.value,
        lastDecisionTime=d.last_decision_time,
        error=d.error,
        createdTime=d.created_time,
        updatedTime=d.updated_time,
    )


@bp.post("")
@errors(404, 409, 422)
@validate_request(DeploymentCreate)
@validate_response(DeploymentOut, 201)
@inject
async def create_deployment(
    data: DeploymentCreate, deployments: DeploymentService = Provide[Container.deployments]
) -> tuple[DeploymentOut, int]:
    """Start a strategy on one of the caller's live or replay accounts; a worker runs it on each closed bar.

    400 `INVALID_INPUT` for an unknown timeframe or a hyperparameter unknown, of the wrong type or out
    of range; 404 for an unknown strategy or an account not the caller's; 409 `DEPLOYMENT_EXISTS` when
    the account runs a deployment on the symbol already; 422 `UNKNOWN_SYMBOL`, or `NOT_REPLAY_SYMBOL`
    on a replay account of another symbol.
    """
    deployment = await deployments.create(
        current_user(),
        strategy=data.strategy,
        account_id=data.accountId,
        symbol=data.symbol,
        timeframe=data.timeframe,
        hyperparameters=data.hyperparameters,
    )
    return present(deployment), 201


@bp.get("")
@validate_querystring(DeploymentQuery)
@validate_response(DeploymentList, 200)
@inject
async def list_deployments(
    query_args: DeploymentQuery, deployments: DeploymentService = Provide[Container.deployments]
) -> DeploymentList:
    """The caller's deployments, newest first."""
    return DeploymentList(list=[present(d) for d in await deployments.list(current_user(), limit=query_args.limit)])


@bp.get("/<id:deployment_id>")
@errors(404)
@validate_response(DeploymentOut, 200)
@inject
async def get_deployment(
    deployment_id: str, deployments: DeploymentService = Provide[Container.deployments]
) -> DeploymentOut:
    """One of the caller's deployments: status, the last bar it decided on, and why it failed."""
    return present(await deployments.get(current_user(), deployment_id))


@bp.post("/<id:deployment_id>/stop")
@errors(404, 409)
@validate_response(DeploymentOut, 200)
@inject
async def stop_deployment(
    deployment_id: str, deployments: DeploymentService = Provide[Container.deployments]
) -> DeploymentOut:
    """Stop it: the strategy decides no more and the open orders it made are cancelled (its position
    stays). Stopping a stopped deployment answers it unchanged; 409 `DEPLOYMENT_STATE_CONFLICT` for a
    failed one."""
    return present(await deployments.stop(current_user(), deployment_id))
