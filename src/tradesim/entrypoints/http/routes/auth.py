"""POST /api/v1/auth/register | login | refresh | logout."""

from __future__ import annotations

from dependency_injector.wiring import Provide, inject
from quart import Blueprint
from quart_schema import tag_blueprint, validate_request, validate_response

from tradesim.application.auth import AuthService, TokenPair
from tradesim.application.limits import LoginThrottle
from tradesim.entrypoints.container import Container
from tradesim.entrypoints.http import presenters
from tradesim.entrypoints.http.openapi import NO_CONTENT, errors, openapi_extra
from tradesim.entrypoints.http.schemas.auth import Credentials, RefreshIn, TokensOut, UserOut
from tradesim.entrypoints.http.security import client_address

bp = Blueprint("auth", __name__, url_prefix="/api/v1/auth")
tag_blueprint(bp, ["auth"])


def _tokens(pair: TokenPair) -> TokensOut:
    return TokensOut(
        accessToken=pair.access_token,
        refreshToken=pair.refresh_token,
        expiresIn=pair.expires_in_s,
        refreshExpiresIn=pair.refresh_expires_in_s,
    )


@bp.post("/register")
@errors(409, 429)
@validate_request(Credentials)
@validate_response(UserOut, 201)
@inject
async def register(
    data: Credentials,
    auth: AuthService = Provide[Container.auth],
    throttle: LoginThrottle = Provide[Container.login_throttle],
) -> tuple[UserOut, int]:
    """Create a user (email, password of 8 to 128 characters). Limited per client address."""
    await throttle.register_attempt(client_address())
    return presenters.user(await auth.register(data.email, data.password)), 201


@bp.post("/login")
@errors(401, 429)
@validate_request(Credentials)
@validate_response(TokensOut, 200)
@inject
async def login(
    data: Credentials,
    auth: AuthService = Provide[Container.auth],
    throttle: LoginThrottle = Provide[Container.login_throttle],
) -> TokensOut:
    """Exchange email and password for an access token (15 min) and a refresh token (14 days).

    Limited per client address, per email and address, and per email from addresses that never logged
    in to it (docs/security.md).
    """
    address = client_address()
    await throttle.attempt(data.email, address)
    tokens = await auth.login(data.email, data.password)
    await throttle.succeeded(data.email, address)
    return _tokens(tokens)


@bp.post("/refresh")
@errors(401)
@validate_request(RefreshIn)
@validate_response(TokensOut, 200)
@inject
async def refresh(data: RefreshIn, auth: AuthService = Provide[Container.auth]) -> TokensOut:
    """Rotate a refresh token: returns a new pair; the old refresh token stops working.

    Presenting an already rotated refresh token revokes every token of that login.
    """
    return _tokens(await auth.refresh(data.refreshToken))


@bp.post("/logout")
@errors(401)
@openapi_extra(NO_CONTENT)
@validate_request(RefreshIn)
@inject
async def logout(data: RefreshIn, auth: AuthService = Provide[Container.auth]) -> tuple[str, int]:
    """Revoke the refresh token and every token rotated from the same login."""
    await auth.logout(data.refreshToken)
    return "", 204
