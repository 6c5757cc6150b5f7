"""The only place errors become HTTP statuses. Every error leaves as `{"error": {"code", "message"}}`."""

from __future__ import annotations

import re
from typing import Any

import structlog
from quart import Quart, Response, current_app
from quart_schema import RequestSchemaValidationError
from quart_schema.validation import QuerystringValidationError
from werkzeug.exceptions import HTTPException

from tradesim.application.limits import QuotaExceeded, RateLimited
from tradesim.domain.errors import (
    Conflict,
    InvalidInput,
    InvalidOrderTransition,
    NotFound,
    RuleViolation,
    TradesimError,
)
from tradesim.domain.images import ImageTooLarge, UnsupportedImageType
from tradesim.ports.errors import DependencyUnavailable, DuplicateEmail, Overloaded
from tradesim.ports.security import Unauthenticated

log = structlog.get_logger("tradesim.api")

#: Most specific first: the first class an error is an instance of decides its status.
STATUS_BY_ERROR: tuple[tuple[type[TradesimError], int], ...] = (
    (Unauthenticated, 401),
    (RateLimited, 429),
    (QuotaExceeded, 409),
    (ImageTooLarge, 413),
    (UnsupportedImageType, 415),
    (InvalidInput, 400),
    (RuleViolation, 422),
    (NotFound, 404),
    (DuplicateEmail, 409),
    (Conflict, 409),
    (DependencyUnavailable, 503),
    (InvalidOrderTransition, 500),
)

HTTP_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHENTICATED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    408: "REQUEST_TIMEOUT",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    429: "RATE_LIMITED",
}


def status_of(error: TradesimError) -> int:
    return next((status for cls, status in STATUS_BY_ERROR if isinstance(error, cls)), 500)


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    body = current_app.json.dumps(error_document(code, message))
    response = Response(body, status=status, content_type="application/json")
    if status == 401:
        response.headers["WWW-Authenticate"] = "Bearer"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def refusal_of(error: TradesimError) -> tuple[int, dict[str, str]]:
    """The status and extra headers `error` is answered with (a 5xx is logged here)."""
    status = status_of(error)
    if status >= 500:
        log.error("request_failed", code=error.code, error=error.message)
    headers = {}
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    if isinstance(error, RateLimited):
        headers["Retry-After"] = str(error.retry_after_s)
    elif isinstance(error, Overloaded):
        headers["Retry-After"] = "1"
    return status, headers


def error_document(code: str, message: str) -> dict[str, dict[str, str]]:
    return {"error": {"code": code, "message": message}}


#: The answer to what nobody expected (logged by whoever met it).
UNEXPECTED_CODE = "INTERNAL_ERROR"
UNEXPECTED_MESSAGE = "the server failed to handle the request; it was logged"


async def _tradesim_error(error: TradesimError) -> Response:
    status, headers = refusal_of(error)
    return error_response(status, error.code, error.message, headers)


#: What each pattern of the wire formats means, said instead of the pattern itself.
PATTERN_MEANINGS = {
    r"^[0-9]{1,20}(\.[0-9]{1,18})?(?!\n)$": 'a non-negative decimal string such as "30000.5"',
    r"^[A-Za-z0-9_.:-]{1,64}(?!\n)$": "an id of 1 to 64 letters, digits or _ . : -",
    r"^[A-Za-z0-9_.:-]{0,64}(?!\n)$": "an id of up to 64 letters, digits or _ . : -, or empty",
    r"^[A-Z0-9]{2,20}(?!\n)$": "a symbol of 2 to 20 capital letters or digits such as BTCUSDT",
    r"^[A-Za-z0-9_-]{1,36}(?!\n)$": "1 to 36 letters, digits, _ or -",
}
_REGEX = re.compile(r"Expected `str` matching regex '(.*?)'(?= - at|$)")


def _plain(validation_error: object) -> str:
    """msgspec's message with its regular expressions said in words (a pattern is the library's, not the caller's)."""

    def say(match: re.Match[str]) -> str:
        pattern = match.group(1).replace("\\\\", "\\")
        return "Expected " + PATTERN_MEANINGS.get(pattern, "a string in the documented format (see /openapi.json)")

    return _REGEX.sub(say, str(validation_error))


async def _http_error(error: HTTPException) -> Response:
    status = error.code or 500
    if isinstance(error, RequestSchemaValidationError):
        where = "query string" if isinstance(error, QuerystringValidationError) else "request body"
        return error_response(400, "INVALID_REQUEST", f"invalid {where}: {_plain(error.validation_error)}")
    if status == 400:
        # Werkzeug's stock sentence says nothing; a description we raised ourselves says what is wrong.
        custom = error.description != type(error).description
        message = (
            error.description
            if custom and error.description
            else ("malformed request: the body must be valid JSON of the documented shape")
        )
    elif status == 404:
        message = "no such resource"
    elif status == 405:
        message = "method not allowed on this resource"
    elif status == 413:
        message = "request body too large"
    else:
        message = error.description or error.name
    headers = {}
    if status == 405:
        allowed = getattr(error, "valid_methods", None)
        if allowed:
            headers["Allow"] = ", ".join(sorted(allowed))
    return error_response(status, HTTP_CODES.get(status, f"HTTP_{status}"), message, headers)


async def _unexpected(error: Exception) -> Response:
    log.exception("unhandled_error", error_type=type(error).__name__)
    return error_response(500, UNEXPECTED_CODE, UNEXPECTED_MESSAGE)


def register_error_handlers(app: Quart) -> None:
    handlers: dict[type[Exception], Any] = {
        TradesimError: _tradesim_error,
        HTTPException: _http_error,
        Exception: _unexpected,
    }
    for cls, handler in handlers.items():
        app.register_error_handler(cls, handler)
