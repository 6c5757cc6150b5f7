"""Bybit's answer shape and its retCodes: every answer is HTTP 200 with
`{retCode, retMsg, result, retExtInfo, time}`, a refusal a non-zero integer `retCode` (pybit treats
any truthy retCode as an error and any status but 200 as a failure; ccxt reads retCode first)."""

from __future__ import annotations

import time
from typing import Any

from quart import Response, current_app

from tradesim.domain.errors import (
    Conflict,
    InsufficientBalance,
    InsufficientMargin,
    InvalidInput,
    NotFound,
    OrderNotOpen,
    PositionOpen,
    ReduceOnlyWouldGrow,
    RuleViolation,
    TradesimError,
    UnknownSymbol,
)
from tradesim.ports.errors import DependencyUnavailable
from tradesim.ports.security import Unauthenticated

PARAMS = 10001
TIMESTAMP = 10002
API_KEY = 10003
SIGNATURE = 10004
PERMISSION = 10005
RATE_LIMIT = 10006
SERVER = 10016
ROUTE = 10017
ORDER_NOT_FOUND = 110001
INSUFFICIENT_BALANCE = 110007
REDUCE_ONLY = 110017
MARGIN_MODE_WITH_POSITION = 110026
LEVERAGE_NOT_MODIFIED = 110043
#: What an unexpected failure answers (it was logged).
UNEXPECTED_MESSAGE = "Internal System Error; it was logged"


class BybitRefusal(Exception):
    """A refusal with Bybit's code, raised by the translation layer itself."""

    def __init__(self, ret_code: int, message: str) -> None:
        super().__init__(message)
        self.ret_code = ret_code
        self.message = message


#: Most specific first: the first class a domain error is an instance of decides its retCode.
RET_CODE_BY_ERROR: tuple[tuple[type[TradesimError], int], ...] = (
    (Unauthenticated, API_KEY),
    (OrderNotOpen, ORDER_NOT_FOUND),
    (NotFound, ORDER_NOT_FOUND),
    (InsufficientMargin, INSUFFICIENT_BALANCE),
    (InsufficientBalance, INSUFFICIENT_BALANCE),
    (ReduceOnlyWouldGrow, REDUCE_ONLY),
    (PositionOpen, MARGIN_MODE_WITH_POSITION),
    (UnknownSymbol, PARAMS),
    (RuleViolation, PARAMS),
    (InvalidInput, PARAMS),
    (Conflict, PARAMS),
    (DependencyUnavailable, SERVER),
)


def ret_code_of(error: TradesimError) -> int:
    return next((code for cls, code in RET_CODE_BY_ERROR if isinstance(error, cls)), SERVER)


def message_of(error: TradesimError) -> str:
    # ccxt recognises an unknown symbol by Bybit's own words ("Not supported symbols" -> BadSymbol).
    if isinstance(error, UnknownSymbol):
        return f"Not supported symbols: {error.message}"
    return error.message


def now_ms() -> int:
    """The app's clock (the container's, so that a test's fixed clock and the signature window
    agree), or the system's outside a request."""
    clock = current_app.extensions.get("bybit_clock") if current_app else None
    return clock() if clock is not None else time.time_ns() // 1_000_000


def document(ret_code: int, ret_msg: str, result: Any, at_ms: int) -> dict[str, Any]:
    """An answer's body, before its JSON."""
    return {
        "retCode": ret_code,
        "retMsg": ret_msg,
        "result": {} if result is None else result,
        "retExtInfo": {},
        "time": at_ms,
    }


def envelope(ret_code: int = 0, ret_msg: str = "OK", result: Any = None, *, at_ms: int | None = None) -> Response:
    body = document(ret_code, ret_msg, result, now_ms() if at_ms is None else at_ms)
    return Response(current_app.json.dumps(body), status=200, content_type="application/json")


def ok(result: Any, *, at_ms: int | None = None) -> Response:
    return envelope(0, "OK", result, at_ms=at_ms)


def refusal(ret_code: int, message: str) -> Response:
    return envelope(ret_code, message)


def page(category: str, items: list[Any], next_cursor: str = "") -> dict[str, Any]:
    """A list result as Bybit's: ccxt pages while `nextPageCursor` is a non-empty string."""
    return {"category": category, "list": items, "nextPageCursor": next_cursor}
