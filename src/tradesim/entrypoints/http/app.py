"""The Quart app factory. Nothing is built at import time; `create_app(container)` builds the app and
`while_serving` starts what it runs (the price pump, the account feed) and stops it again.

The app takes its container as it is: configured before it was built (`ContainerOptions`), its
resources started and closed by whoever runs the process (`runner.run_role`), and the route
modules wired to it by the process too (`routes_wired`), since wiring binds modules process-wide.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Iterator

import attrs
from quart import Quart, request
from quart_schema import QuartSchema
from quart_schema.openapi import HttpSecurityScheme, Info
from quart_schema.validation import QUART_SCHEMA_QUERYSTRING_ATTRIBUTE, QUART_SCHEMA_REQUEST_ATTRIBUTE, DataSource
from werkzeug.exceptions import BadRequest, NotFound

from tradesim.domain.errors import InvalidInput
from tradesim.entrypoints.container import Container
from tradesim.entrypoints.http import errors, security, web
from tradesim.entrypoints.http.bodies import BoundedBody, BoundedRequest
from tradesim.entrypoints.http.bybit.order_create import BybitOrderCreate
from tradesim.entrypoints.http.bybit.setup import register_bybit
from tradesim.entrypoints.http.converters import IdConverter, SymbolConverter
from tradesim.entrypoints.http.headers import install_security_headers
from tradesim.entrypoints.http.json_provider import MsgspecJSONProvider
from tradesim.entrypoints.http.observability import install_request_hooks
from tradesim.entrypoints.http.openapi import TradesimOpenAPI
from tradesim.entrypoints.http.order_post import OrderPost
from tradesim.entrypoints.http.quart_app import TradesimQuart
from tradesim.entrypoints.http.routes import (
    accounts,
    api_keys,
    auth,
    candles,
    executions,
    health,
    instruments,
    journal,
    ledger,
    orders,
    positions,
    replays,
    strategy_deployments,
    strategy_runs,
    tickers,
)
from tradesim.entrypoints.http.tickers import pump_prices
from tradesim.entrypoints.http.ws.endpoint import WebSocketEndpoint
from tradesim.entrypoints.http.ws.hub import GOING_AWAY

ROUTE_MODULES = (
    auth,
    accounts,
    instruments,
    tickers,
    candles,
    orders,
    positions,
    executions,
    ledger,
    journal,
    replays,
    strategy_runs,
    strategy_deployments,
    api_keys,
    health,
)
#: Modules whose `Provide[...]` markers the container fills in.
WIRED_MODULES = (*ROUTE_MODULES, security)

#: JSON bodies are small (the largest legitimate one, a journal entry with 20,000 characters of notes,
#: stays under 128 KiB even with every character escaped); only image uploads are large.
MAX_JSON_BODY = 256 * 1024
MAX_UPLOAD_BODY = 5 * 1024 * 1024 + 64 * 1024
UPLOAD_ENDPOINTS = frozenset({"journal.upload_attachment"})


@attrs.frozen
class ApiOptions:
    """rate_limits: off only in tests that hammer the auth routes on purpose."""

    rate_limits: bool = True


@contextlib.contextmanager
def routes_wired(container: Container) -> Iterator[Container]:
    """Bind the route modules' `Provide[...]` markers to `container` while the app serves.

    Wiring patches the modules themselves, for the whole process: the process that builds the app
    does it (one app per process), and undoes it when the app is done.
    """
    container.wire(modules=list(WIRED_MODULES))
    try:
        yield container
    finally:
        container.unwire()


def create_app(container: Container, options: ApiOptions | None = None) -> Quart:
    """The api over `container`, whose resources are started and routes wired by the caller."""
    options = options or ApiOptions()
    settings = container.settings()
    app = TradesimQuart("tradesim.api", static_folder=None)
    app.request_class = BoundedRequest
    app.config.update(
        MAX_CONTENT_LENGTH=MAX_UPLOAD_BODY,
        MAX_FORM_MEMORY_SIZE=64 * 1024,
        MAX_FORM_PARTS=10,
        DEBUG=settings.debug,
    )
    app.extensions["container"] = container
    app.url_map.converters["id"] = IdConverter
    app.url_map.converters["symbol"] = SymbolConverter
    app.url_map.strict_slashes = False

    QuartSchema(
        app,
        info=Info(
            title="tradesim",
            version="1",
            description="Trading simulator api: prices, quantities and amounts are decimal strings, times epoch ms, "
            'field names as Bybit v5. Every error is {"error": {"code", "message"}}.',
        ),
        security_schemes={"bearerAuth": HttpSecurityScheme(scheme="bearer", bearer_format="JWT")},
        conversion_preference="msgspec",
        openapi_provider_class=TradesimOpenAPI,
        # Its pages load their scripts from CDNs (and run inline scripts): `web` serves /docs and
        # /redocs from vendored copies instead.
        scalar_ui_path=None,
        swagger_ui_path=None,
        redoc_ui_path=None,
    )
    # After QuartSchema, which installs a provider of its own (the standard library's json).
    app.json = MsgspecJSONProvider(app)
    metrics = container.api.metrics()
    install_request_hooks(app, metrics)
    install_security_headers(app)

    if settings.metrics_port is not None:
        metrics_port = settings.metrics_port

        @app.before_request
        async def _only_metrics_on_the_metrics_port() -> None:
            if request.endpoint != "health.metrics" and health.server_port() == metrics_port:
                raise NotFound()

    @app.before_request
    async def _refuse_unknown_query_parameters() -> None:
        # A misspelt parameter (`accountID`) silently ignored would answer a different question.
        view = app.view_functions.get(request.endpoint or "")
        model = getattr(view, QUART_SCHEMA_QUERYSTRING_ATTRIBUTE, None)
        if model is None or not request.args:
            return
        known = {field.name for field in attrs.fields(model)}
        unknown = sorted(set(request.args) - known)
        if unknown:
            raise InvalidInput(
                f"unknown query parameter(s) {', '.join(map(repr, unknown))}; known: {', '.join(sorted(known))}"
            )

    @app.before_request
    async def _limit_json_bodies() -> None:
        if request.endpoint in UPLOAD_ENDPOINTS or request.method in ("GET", "HEAD", "OPTIONS"):
            return
        # Refused as soon as the declared length or the bytes received pass the cap, however sent.
        bounded = request.body
        if isinstance(bounded, BoundedBody):
            bounded.limit(MAX_JSON_BODY, request.content_length)
        body: bytes = await request.body
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            # Quart's JSON parsing lets this escape as a 500; it is a malformed request.
            raise BadRequest("the body is not UTF-8 text") from None

    container.throttle().enabled = options.rate_limits
    known_body_fields: dict[str, frozenset[str] | None] = {}

    @app.before_request
    async def _refuse_unknown_body_fields() -> None:
        # msgspec converts attrs classes leniently, so `"stoploss": "29000"` was silently dropped and the
        # order placed without its stop-loss. The known names are read once per endpoint.
        endpoint = request.endpoint or ""
        if endpoint not in known_body_fields:
            known_body_fields[endpoint] = _body_fields(app.view_functions.get(endpoint))
        known = known_body_fields[endpoint]
        if known is None:
            return
        data = await request.get_json()  # cached: the validation that follows reads the same object
        if isinstance(data, dict) and not known.issuperset(data):
            unknown = ", ".join(map(repr, sorted(set(data) - known)))
            raise InvalidInput(f"unknown field(s) {unknown} in the request body; known: {', '.join(sorted(known))}")

    errors.register_error_handlers(app)
    for module in ROUTE_MODULES:
        app.register_blueprint(module.bp)
    register_bybit(app, container)
    app.register_blueprint(web.bp)
    sockets = WebSocketEndpoint(
        app.asgi_app,  # type: ignore[arg-type]
        hub=container.api.hub(),
        feed=container.api.account_feed(),
        auth=container.auth(),
        accounts=container.accounts(),
        tickers=container.api.tickers(),
        replays=container.api.replay_feed(),
        sessions=container.api.sessions(),
        quota=container.api.socket_quota(),
        runs=container.api.strategy_run_feed(),
    )
    # The order POSTs, the api's hottest requests, outermost: they pass through no other layer.
    bybit_orders = BybitOrderCreate(
        sockets,
        app=app,
        services=app.extensions["bybit"],
        metrics=metrics,
        max_body=MAX_JSON_BODY,
        metrics_port=settings.metrics_port,
    )
    app.asgi_app = OrderPost(  # type: ignore[method-assign,assignment]
        bybit_orders,
        app=app,
        orders=container.orders(),
        auth=container.auth(),
        metrics=metrics,
        max_body=MAX_JSON_BODY,
        metrics_port=settings.metrics_port,
    )

    @app.while_serving
    async def lifespan() -> AsyncGenerator[None, None]:
        metrics.gc_pauses.install()
        hub = container.api.hub()
        feed = container.api.account_feed()
        feed.start()
        tasks = [
            asyncio.create_task(pump_prices(container.messaging.price_bus(), container.api.tickers(), hub)),
            asyncio.create_task(feed.run()),
            asyncio.create_task(container.api.sessions().run()),
            asyncio.create_task(container.api_key_cache().follow(container.messaging.revocations())),
            asyncio.create_task(container.api.socket_quota().run()),
        ]
        try:
            yield
        finally:
            hub.close_all(GOING_AWAY, "server shutting down")
            await container.api.replay_feed().close()
            await container.api.strategy_run_feed().close()
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            metrics.gc_pauses.uninstall()

    return app


def _body_fields(view: object) -> frozenset[str] | None:
    """The field names of a route's JSON body model; None when it takes no JSON body."""
    declared = getattr(view, QUART_SCHEMA_REQUEST_ATTRIBUTE, None)
    if declared is None or declared[1] != DataSource.JSON:
        return None
    return frozenset(field.name for field in attrs.fields(declared[0]))


async def _maybe_await(result: object) -> None:
    # dependency-injector returns an awaitable only when some resource is asynchronous.
    if asyncio.isfuture(result) or asyncio.iscoroutine(result):
        await result
