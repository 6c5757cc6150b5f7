"""What the `/v5` views share: the use cases they translate to, the signed-request check, and the
parameters of a request."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import ParamSpec

import attrs
from quart import Response, current_app, g, request
from quart_schema import hide

from tradesim.application.api_keys import ApiKeyService
from tradesim.application.market import CandleQueries
from tradesim.application.orders import OrderService
from tradesim.application.portfolio import PortfolioQueries
from tradesim.application.prices import AccountPrices
from tradesim.domain.api_keys import ApiKey
from tradesim.domain.errors import TradesimError
from tradesim.domain.instruments import InstrumentCatalog
from tradesim.entrypoints.http.bybit import signing
from tradesim.entrypoints.http.bybit.envelope import (
    PERMISSION,
    RATE_LIMIT,
    SIGNATURE,
    TIMESTAMP,
    BybitRefusal,
    message_of,
    refusal,
    ret_code_of,
)
from tradesim.entrypoints.http.bybit.limits import KeyLimits, LimitStatus
from tradesim.entrypoints.http.bybit.params import Params, parse_body
from tradesim.entrypoints.http.tickers import TickerCache
from tradesim.ports.clock import Clock

P = ParamSpec("P")
View = Callable[P, Awaitable[Response]]


@attrs.frozen
class BybitServices:
    """The same use cases `/api/v1` calls: `/v5` only translates to and from them."""

    orders: OrderService
    portfolio: PortfolioQueries
    prices: AccountPrices
    api_keys: ApiKeyService
    catalog: InstrumentCatalog
    candles: CandleQueries
    tickers: TickerCache
    clock: Clock
    limits: KeyLimits


def services() -> BybitServices:
    found: BybitServices = current_app.extensions["bybit"]
    return found


def caller() -> ApiKey:
    """The key of the signed request being served."""
    key: ApiKey = g.bybit_key
    return key


async def _body() -> bytes:
    body: bytes = await request.body
    return body


async def params() -> Params:
    if request.method == "GET":
        return Params(request.args.to_dict())
    return Params(parse_body(await _body()))


def refused(error: Exception) -> BybitRefusal:
    """A refusal of the translation layer or of a use case, as Bybit's retCode and message."""
    if isinstance(error, BybitRefusal):
        return error
    if isinstance(error, TradesimError):
        return BybitRefusal(ret_code_of(error), message_of(error))
    raise error


def refusal_of(error: Exception) -> Response:
    answer = refused(error)
    return refusal(answer.ret_code, answer.message)


async def authenticate(s: BybitServices, header: Callable[[str], str], payload: bytes) -> ApiKey:
    """The key of a signed request whose headers `header` reads ("" for a missing one) and whose
    signed payload is `payload`; a refusal for a stale window, an unknown key or a bad signature."""
    timestamp = header("X-BAPI-TIMESTAMP")
    recv_window = header("X-BAPI-RECV-WINDOW")
    now = s.clock.now_ms()
    window = int(recv_window) if recv_window.isdigit() else signing.DEFAULT_RECV_WINDOW_MS
    if not timestamp.isdigit() or not signing.within_window(now, int(timestamp), window):
        raise BybitRefusal(
            TIMESTAMP,
            "invalid request, please check your server timestamp or recv_window param. "
            f"req_timestamp[{timestamp}],server_timestamp[{now}],recv_window[{window}]",
        )
    credentials = await s.api_keys.credentials(header("X-BAPI-API-KEY"))
    matches = signing.signature_matches(
        credentials.secret, timestamp, credentials.key.api_key, recv_window, payload, header("X-BAPI-SIGN")
    )
    if not matches:
        raise BybitRefusal(SIGNATURE, "error sign! the signature does not match the request")
    return credentials.key


async def _authenticate(s: BybitServices) -> ApiKey:
    headers = request.headers
    payload = request.query_string if request.method == "GET" else await _body()
    return await authenticate(s, lambda name: headers.get(name, ""), payload)


async def admit(s: BybitServices, key: ApiKey, *, trade: bool, group: str) -> tuple[LimitStatus, BybitRefusal | None]:
    """Count the request against the key's limit of `group`: its limit, and why it is refused
    (over the limit, or a read-only key asking to trade) or None when it is let through."""
    status = await s.limits.take(key.api_key, group, s.clock.now_ms())
    if status.exceeded:
        return status, BybitRefusal(RATE_LIMIT, "Too many visits. Exceeded the API Rate Limit.")
    if trade and key.read_only:
        return status, BybitRefusal(PERMISSION, "Permission denied for current apikey: it is read-only")
    return status, None


async def signer() -> ApiKey | None:
    """The key of a public request that came signed (checked as any signed request: a bad signature,
    window or key is refused); None for an unsigned one."""
    if "X-BAPI-API-KEY" not in request.headers:
        return None
    return await _authenticate(services())


def signed(*, trade: bool = False, group: str = "read") -> Callable[[View[P]], View[P]]:
    """A view for signed requests only: the key's window, signature, limit and permission are
    checked first; refusals leave as Bybit's envelope with the limit headers on every answer."""

    def wrap(view: View[P]) -> View[P]:
        @functools.wraps(view)
        async def checked(*args: P.args, **kwargs: P.kwargs) -> Response:
            s = services()
            try:
                key = await _authenticate(s)
            except (BybitRefusal, TradesimError) as error:
                return refusal_of(error)
            status, refusing = await admit(s, key, trade=trade, group=group)
            if refusing is not None:
                response = refusal_of(refusing)
            else:
                g.bybit_key = key
                g.user_id = key.user_id  # for the request log
                try:
                    response = await view(*args, **kwargs)
                except (BybitRefusal, TradesimError) as error:
                    response = refusal_of(error)
            response.headers.update(status.headers())
            return response

        # Bybit's API is documented by Bybit (and docs/bybit-api.md), not in tradesim's OpenAPI.
        return hide(checked)

    return wrap


def public(view: View[P]) -> View[P]:
    """A public view: refusals leave as Bybit's envelope."""

    @functools.wraps(view)
    async def answered(*args: P.args, **kwargs: P.kwargs) -> Response:
        try:
            return await view(*args, **kwargs)
        except (BybitRefusal, TradesimError) as error:
            return refusal_of(error)

    return hide(answered)
