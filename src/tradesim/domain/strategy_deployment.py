"""A live strategy deployment: one strategy deciding on one symbol's bars for one account.

Its status moves along one explicit table (`TRANSITIONS`): a running deployment is stopped by
its owner or fails on its own (the strategy raised, its account went away); stopped and failed
are final. Stopping a stopped deployment is allowed and changes nothing, so a retried request is
harmless. The lease columns (`owner`, `lease_until`) say which worker runs it; they change only
through the repository's `claim` and `release`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Final

import attrs

from tradesim.domain.errors import Conflict, InvalidInput
from tradesim.domain.strategy_specs import TIMEFRAME_MS, check_timeframe


class DeploymentStatus(StrEnum):
    RUNNING = "running"
    STOPPED = "stopped"
    FAILED = "failed"


class DeploymentAction(StrEnum):
    STOP = "stop"
    FAIL = "fail"


class DeploymentConflict(Conflict):
    """The action does not apply in the deployment's status (say, stopping a failed one)."""

    code = "DEPLOYMENT_STATE_CONFLICT"


class DeploymentExists(Conflict):
    """The account already runs a deployment on the symbol: two would fight over one position."""

    code = "DEPLOYMENT_EXISTS"


TRANSITIONS: Final[dict[tuple[DeploymentStatus, DeploymentAction], DeploymentStatus]] = {
    (DeploymentStatus.RUNNING, DeploymentAction.STOP): DeploymentStatus.STOPPED,
    (DeploymentStatus.STOPPED, DeploymentAction.STOP): DeploymentStatus.STOPPED,
    (DeploymentStatus.RUNNING, DeploymentAction.FAIL): DeploymentStatus.FAILED,
}


def _timeframe(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    check_timeframe(value)  # one rule for runs and deployments (domain.strategy_specs)


@attrs.frozen(slots=True)
class StrategyDeployment:
    """See the module docstring. `hyperparameters` are already checked against the strategy's
    declaration; `last_decision_time` is the close time (epoch ms) of the last bar it decided on."""

    deployment_id: str
    user_id: str
    account_id: str
    strategy: str
    symbol: str
    timeframe: str = attrs.field(validator=_timeframe)
    hyperparameters: dict[str, Any] = attrs.field(factory=dict)
    status: DeploymentStatus = DeploymentStatus.RUNNING
    last_decision_time: int | None = None
    error: str | None = None
    created_time: int = 0
    updated_time: int = 0
    owner: str = ""
    lease_until: int = 0

    def __attrs_post_init__(self) -> None:
        if (self.status is DeploymentStatus.FAILED) != (self.error is not None):
            raise InvalidInput("a deployment has an error exactly when it failed")

    @property
    def timeframe_ms(self) -> int:
        return TIMEFRAME_MS[self.timeframe]

    def _after(self, action: DeploymentAction, now_ms: int, error: str | None = None) -> StrategyDeployment:
        status = TRANSITIONS.get((self.status, action))
        if status is None:
            raise DeploymentConflict(
                f"deployment {self.deployment_id} is {self.status.value}; it cannot {action.value}"
            )
        if status is self.status:
            return self
        return attrs.evolve(self, status=status, error=error, updated_time=now_ms)

    def stop(self, now_ms: int) -> StrategyDeployment:
        return self._after(DeploymentAction.STOP, now_ms)

    def fail(self, error: str, now_ms: int) -> StrategyDeployment:
        return self._after(DeploymentAction.FAIL, now_ms, error or "failed")

    def order_link_id(self, bar_close_ms: int, seq: int) -> str:
        """The orderLinkId of the `seq`-th order decided on the bar closing at `bar_close_ms`.

        The same decision made again (a worker taking the deployment over re-deciding a bar) gets
        the same id, so the order path's orderLinkId rule answers the first order, never a second.
        Bybit allows 36 characters: the deployment id's own random part, the bar in minutes, seq.
        """
        return f"{self.deployment_id[-16:]}-{bar_close_ms // 60_000}-{seq}"[-36:]

    def made(self, order_link_id: str) -> bool:
        """True when the order with `order_link_id` was placed by this deployment."""
        return order_link_id.startswith(f"{self.deployment_id[-16:]}-")
