"""The OpenAPI document: quart-schema's, plus the error responses every route can give.

Routes declare the errors particular to them with `@errors(404, 422)`; every route also gets
400 (malformed input) and 503 (a dependency is down), authenticated routes 401, rate-limited
ones 429. Each error response has the `ErrorBody` schema.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import msgspec
from quart_schema import OpenAPIProvider
from quart_schema.validation import (
    QUART_SCHEMA_QUERYSTRING_ATTRIBUTE,
    QUART_SCHEMA_REQUEST_ATTRIBUTE,
    QUART_SCHEMA_RESPONSE_ATTRIBUTE,
)
from werkzeug.routing import BaseConverter
from werkzeug.routing.rules import Rule

from tradesim.entrypoints.http.converters import ID_PATTERN, IdConverter, SymbolConverter
from tradesim.entrypoints.http.schemas.common import ErrorBody

F = TypeVar("F", bound=Callable[..., Any])

ERRORS_ATTRIBUTE = "_tradesim_errors"
EXTRA_ATTRIBUTE = "_tradesim_openapi"

DESCRIPTIONS = {
    400: "Malformed request (bad JSON, wrong type, a float where a decimal string belongs, unknown enum value)",
    401: "Missing, malformed, tampered or expired access token",
    404: "No such resource, or it belongs to another user",
    409: "Conflicts with the current state",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "A trading rule refused the request; `code` names the rule",
    429: "Too many attempts; see Retry-After",
    503: "A dependency (database, Redis) is unavailable; retry later",
}


def errors(*statuses: int) -> Callable[[F], F]:
    """Document the error statuses particular to a route."""

    def decorate(func: F) -> F:
        setattr(func, ERRORS_ATTRIBUTE, (*getattr(func, ERRORS_ATTRIBUTE, ()), *statuses))
        return func

    return decorate


NO_CONTENT: dict[str, Any] = {"responses": {204: {"description": "Done; no body"}}}


def openapi_extra(operation: dict[str, Any]) -> Callable[[F], F]:
    """Merge raw OpenAPI into a route's operation (request bodies quart-schema cannot describe)."""

    def decorate(func: F) -> F:
        setattr(func, EXTRA_ATTRIBUTE, operation)
        return func

    return decorate


def _components(func: Callable[..., Any]) -> dict[str, Any]:
    """Every schema the route's models refer to, nested ones included.

    quart-schema documents only the top model of a msgspec schema; its nested `$ref`s would dangle.
    """
    models: list[Any] = [ErrorBody]
    request_model = getattr(func, QUART_SCHEMA_REQUEST_ATTRIBUTE, None)
    if request_model is not None:
        models.append(request_model[0])
    query_model = getattr(func, QUART_SCHEMA_QUERYSTRING_ATTRIBUTE, None)
    if query_model is not None:
        models.append(query_model)
    for model, _headers in getattr(func, QUART_SCHEMA_RESPONSE_ATTRIBUTE, {}).values():
        models.append(model)
    _refs, components = msgspec.json.schema_components(models, ref_template="#/components/schemas/{name}")
    return components


class TradesimOpenAPI(OpenAPIProvider):
    def build_paths(self, rule: Rule) -> tuple[dict[str, Any], dict[str, Any]]:
        paths, components = super().build_paths(rule)
        func = self._app.view_functions[rule.endpoint]
        blueprint = self._app.blueprints.get(rule.endpoint.rsplit(".", 1)[0]) if "." in rule.endpoint else None
        secured = bool(getattr(blueprint, "_quart_schema_security_tag", None))
        statuses = {400, 503, *getattr(func, ERRORS_ATTRIBUTE, ())}
        if getattr(func, QUART_SCHEMA_REQUEST_ATTRIBUTE, None) is not None:
            statuses |= {413, 415}
        if secured:
            statuses.add(401)
        components.update(_components(func))
        error_object = {
            status: {
                "description": DESCRIPTIONS.get(status, "Error"),
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
            }
            for status in sorted(statuses)
        }
        extra = getattr(func, EXTRA_ATTRIBUTE, {})
        for operations in paths.values():
            for operation in operations.values():
                body = operation.get("requestBody", {}).get("content", {}).get("application/json")
                if body is not None and body.get("schema", {}).get("type") == "object":
                    # The app refuses unknown body fields (app.py); the document says so.
                    body["schema"] = {**body["schema"], "additionalProperties": False}
                responses = operation["responses"] = dict(operation["responses"])
                for status, obj in error_object.items():
                    responses.setdefault(status, obj)
                for key, value in extra.items():
                    if key == "responses":
                        responses.update(value)
                    else:
                        operation[key] = value
        return paths, components

    def build_path_parameter(self, name: str, converter: BaseConverter) -> dict[str, Any]:
        parameter = super().build_path_parameter(name, converter)
        if isinstance(converter, IdConverter):
            parameter["schema"] = {"type": "string", "pattern": f"^{ID_PATTERN}$"}
        elif isinstance(converter, SymbolConverter):
            parameter["schema"] = {"type": "string", "pattern": f"^{SymbolConverter.regex}$"}
        return parameter
