"""POST/GET /api/v1/api-keys, DELETE /api/v1/api-keys/{apiKeyId}: keys for the Bybit-compatible api."""

from __future__ import annotations

from dependency_injector.wiring import Provide, inject
from quart import Blueprint
from quart_schema import security_scheme_blueprint, tag_blueprint, validate_request, validate_response

from tradesim.application.api_keys import ApiKeyService
from tradesim.domain.api_keys import ApiKey
from tradesim.entrypoints.container import Container
from tradesim.entrypoints.http.openapi import errors
from tradesim.entrypoints.http.schemas.api_keys import ApiKeyCreate, ApiKeyCreated, ApiKeyList, ApiKeyOut
from tradesim.entrypoints.http.security import BEARER, current_user, require_user

bp = require_user(Blueprint("api_keys", __name__, url_prefix="/api/v1/api-keys"))
tag_blueprint(bp, ["api keys"])
security_scheme_blueprint(bp, BEARER)


def _out(key: ApiKey) -> ApiKeyOut:
    return ApiKeyOut(
        apiKeyId=key.api_key_id,
        apiKey=key.api_key,
        accountId=key.account_id,
        label=key.label,
        readOnly=key.read_only,
        createdTime=key.created_time,
    )


@bp.post("")
@errors(404, 422)
@validate_request(ApiKeyCreate)
@validate_response(ApiKeyCreated, 201)
@inject
async def create_api_key(
    data: ApiKeyCreate, api_keys: ApiKeyService = Provide[Container.api_keys]
) -> tuple[ApiKeyCreated, int]:
    """A key for one of the caller's accounts, to sign `/v5` requests with (Bybit's HMAC-SHA256).

    The secret is in this answer only: it is stored sealed and never shown again.
    """
    created = await api_keys.create(current_user(), data.accountId, label=data.label or "", read_only=data.readOnly)
    key = created.key
    return (
        ApiKeyCreated(
            apiKeyId=key.api_key_id,
            apiKey=key.api_key,
            apiSecret=created.secret,
            accountId=key.account_id,
            label=key.label,
            readOnly=key.read_only,
            createdTime=key.created_time,
        ),
        201,
    )


@bp.get("")
@validate_response(ApiKeyList, 200)
@inject
async def list_api_keys(api_keys: ApiKeyService = Provide[Container.api_keys]) -> ApiKeyList:
    """The caller's live keys, without their secrets."""
    return ApiKeyList(list=[_out(k) for k in await api_keys.list(current_user())])


@bp.delete("/<id:api_key_id>")
@errors(404)
@validate_response(ApiKeyOut, 200)
@inject
async def revoke_api_key(api_key_id: str, api_keys: ApiKeyService = Provide[Container.api_keys]) -> ApiKeyOut:
    """Revoke a key: its next request, on any api process, is refused."""
    return _out(await api_keys.revoke(current_user(), api_key_id))
