"""Errors adapters raise, grouped by what the caller should do."""

from __future__ import annotations

from tradesim.domain.errors import TradesimError


class DependencyUnavailable(TradesimError):
    """A database, Redis or object store is down or timed out. Retry later; nothing was half-written."""

    code = "DEPENDENCY_UNAVAILABLE"


class Overloaded(DependencyUnavailable):
    """The server is at its bound for this kind of work (a flood of logins); retry in a moment."""

    code = "OVERLOADED"


class DuplicateEmail(TradesimError):
    code = "DUPLICATE_EMAIL"


class ExchangeUnavailable(DependencyUnavailable):
    """An exchange's REST api did not answer usefully after every retry (network, 5xx, rate limit)."""

    code = "EXCHANGE_UNAVAILABLE"


class ExchangeRejected(TradesimError):
    """The exchange refused the request itself (a bad parameter, an unknown symbol) or answered
    with something that is not its documented shape; retrying will not help."""

    code = "EXCHANGE_REJECTED"
