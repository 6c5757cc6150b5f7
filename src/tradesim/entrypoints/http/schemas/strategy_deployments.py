"""Live strategy deployments (DESIGN §9)."""

from __future__ import annotations

import builtins
from typing import Annotated, Any, Literal

import attrs
import msgspec

from tradesim.entrypoints.http.schemas.common import Id, Limit, Symbol

StrategyName = Annotated[str, msgspec.Meta(min_length=1, max_length=100, examples=["SmaCross"])]
Timeframe = Annotated[
    str, msgspec.Meta(description='one of "1m", "5m", "15m", "30m", "1h", "4h", "1D"', examples=["1m", "1h"])
]
Hyperparameters = Annotated[
    dict[str, Any],
    msgspec.Meta(description="values by name, each within the strategy's declared type and range", examples=[{}]),
]


@attrs.frozen
class DeploymentCreate:
    """Run `strategy` on `symbol`'s closed bars of `timeframe` for one of the caller's live or replay accounts."""

    strategy: StrategyName
    accountId: Id
    symbol: Symbol
    timeframe: Timeframe
    hyperparameters: Hyperparameters | None = None


@attrs.frozen
class DeploymentQuery:
    limit: Limit = 100


@attrs.frozen
class DeploymentOut:
    """A deployment. `lastDecisionTime`: the close (epoch ms) of the last bar the strategy decided on,
    null before the first; `error`: why it failed (the strategy, the method and the line), null otherwise."""

    deploymentId: str
    strategy: str
    accountId: str
    symbol: str
    timeframe: str
    hyperparameters: dict[str, Any]
    status: Literal["running", "stopped", "failed"]
    lastDecisionTime: int | None
    error: str | None
    createdTime: int
    updatedTime: int


@attrs.frozen
class DeploymentList:
    list: builtins.list[DeploymentOut]
