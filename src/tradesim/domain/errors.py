"""The error tree of the domain, grouped by what the caller should do about it.

- `InvalidInput`: the request is malformed (a float where a decimal belongs, an unknown enum).
  Fix the request.
- `RuleViolation`: a well-formed request that breaks a trading rule (price off the tick grid,
  quantity below the minimum, insufficient margin). The request is refused; nothing changed.
- `NotFound`, `Conflict`: the thing named does not exist, or is in a state that forbids the action.
- `InvalidOrderTransition`: a bug: code tried to move an order along an edge the state machine lacks.

Every error carries a stable `code` (for machines) and a message a person can act on. None of
them knows about HTTP: mapping to status codes is the job of the entrypoints.
"""

from __future__ import annotations


class TradesimError(Exception):
    """Root of every error the domain raises or reports."""

    code: str = "TRADESIM_ERROR"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and isinstance(other, TradesimError) and self.message == other.message

    def __hash__(self) -> int:
        return hash((type(self), self.message))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class InvalidInput(TradesimError):
    code = "INVALID_INPUT"


class RuleViolation(TradesimError):
    """A trading rule refused the request; `rule` names it."""

    code = "RULE_VIOLATION"


class UnknownSymbol(RuleViolation):
    code = "UNKNOWN_SYMBOL"


class PriceOffTick(RuleViolation):
    code = "PRICE_OFF_TICK"


class PriceOutOfRange(RuleViolation):
    code = "PRICE_OUT_OF_RANGE"


class QtyOffStep(RuleViolation):
    code = "QTY_OFF_STEP"


class QtyBelowMinimum(RuleViolation):
    code = "QTY_BELOW_MINIMUM"


class QtyAboveMaximum(RuleViolation):
    code = "QTY_ABOVE_MAXIMUM"


class NotionalBelowMinimum(RuleViolation):
    code = "NOTIONAL_BELOW_MINIMUM"


class InsufficientMargin(RuleViolation):
    code = "INSUFFICIENT_MARGIN"


class InsufficientBalance(RuleViolation):
    code = "INSUFFICIENT_BALANCE"


class ReduceOnlyWouldGrow(RuleViolation):
    code = "REDUCE_ONLY_WOULD_GROW"


class PostOnlyWouldTake(RuleViolation):
    code = "POST_ONLY_WOULD_TAKE"


class FillOrKillUnfillable(RuleViolation):
    code = "FOK_UNFILLABLE"


class StalePrice(RuleViolation):
    code = "STALE_PRICE"


class NoMarketPrice(RuleViolation):
    code = "NO_MARKET_PRICE"


class InvalidTpSl(RuleViolation):
    code = "INVALID_TP_SL"


class InvalidTrigger(RuleViolation):
    code = "INVALID_TRIGGER"


class LeverageOutOfRange(RuleViolation):
    code = "LEVERAGE_OUT_OF_RANGE"


class UnsupportedForCategory(RuleViolation):
    code = "UNSUPPORTED_FOR_CATEGORY"


class PositionOpen(RuleViolation):
    code = "POSITION_OPEN"


class NotFound(TradesimError):
    code = "NOT_FOUND"


class Conflict(TradesimError):
    code = "CONFLICT"


class OrderNotOpen(Conflict):
    code = "ORDER_NOT_OPEN"


class DuplicateAccount(Conflict):
    code = "DUPLICATE_ACCOUNT"


class InvalidOrderTransition(TradesimError):
    """An order was asked to move along an edge its state machine does not have."""

    code = "INVALID_ORDER_TRANSITION"
