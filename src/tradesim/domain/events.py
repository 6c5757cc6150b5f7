"""What the engine reports. Every state change comes out as one of these, in order."""

from __future__ import annotations

import attrs

from tradesim.domain.enums import CancelReason
from tradesim.domain.errors import TradesimError
from tradesim.domain.executions import Execution, LedgerEntry
from tradesim.domain.orders import Order
from tradesim.domain.positions import Position


@attrs.frozen(slots=True)
class OrderAccepted:
    order: Order

    @property
    def account_id(self) -> str:
        return self.order.account_id


@attrs.frozen(slots=True)
class OrderRejected:
    """The order ended Rejected; `error` is the typed rule it broke."""

    order: Order
    error: TradesimError

    @property
    def account_id(self) -> str:
        return self.order.account_id


@attrs.frozen(slots=True)
class OrderTriggered:
    order: Order

    @property
    def account_id(self) -> str:
        return self.order.account_id


@attrs.frozen(slots=True)
class OrderFilled:
    order: Order
    execution: Execution

    @property
    def account_id(self) -> str:
        return self.order.account_id


@attrs.frozen(slots=True)
class OrderCancelled:
    order: Order
    reason: CancelReason

    @property
    def account_id(self) -> str:
        return self.order.account_id


@attrs.frozen(slots=True)
class OrderAmended:
    order: Order

    @property
    def account_id(self) -> str:
        return self.order.account_id


@attrs.frozen(slots=True)
class CommandRejected:
    """A cancel, amend, trading-stop, leverage or transfer command that could not apply; nothing changed."""

    account_id: str
    command: str
    error: TradesimError
    order_id: str = ""


@attrs.frozen(slots=True)
class PositionChanged:
    position: Position

    @property
    def account_id(self) -> str:
        return self.position.account_id


@attrs.frozen(slots=True)
class BalanceChanged:
    entry: LedgerEntry

    @property
    def account_id(self) -> str:
        return self.entry.account_id


OrderEvent = OrderAccepted | OrderRejected | OrderTriggered | OrderFilled | OrderCancelled | OrderAmended
EngineEvent = OrderEvent | CommandRejected | PositionChanged | BalanceChanged
