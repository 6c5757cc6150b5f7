"""Bearer authentication for the routes that need a user."""

from __future__ import annotations

from dependency_injector.wiring import Provide, inject
from quart import Blueprint, g, request

from tradesim.application.auth import AuthService
from tradesim.entrypoints.container import Container
from tradesim.ports.security import Unauthenticated

BEARER: list[dict[str, list[str]]] = [{"bearerAuth": []}]


def bearer_token(header: str | None) -> str:
    scheme, _, token = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("send the access token as 'Authorization: Bearer <accessToken>'")
    return token.strip()


@inject
async def _authenticate(auth: AuthService = Provide[Container.auth]) -> None:
    g.user_id = auth.authenticate(bearer_token(request.headers.get("Authorization")))


def require_user(blueprint: Blueprint) -> Blueprint:
    """Every route of `blueprint` needs a valid access token; the user id lands in `g.user_id`."""
    blueprint.before_request(_authenticate)
    return blueprint


def client_address() -> str:
    """The peer address as hypercorn reports it. Behind a load balancer, run hypercorn's ProxyFixMiddleware
    with the trusted hop count so that this is the client's, and not spoofable."""
    return request.remote_addr or "unknown"


def current_user() -> str:
    user_id: str = g.user_id
    return user_id
