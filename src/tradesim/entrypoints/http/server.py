"""Serving the app with hypercorn, standalone (`tradesim api`) or beside other tasks (`tradesim serve`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from hypercorn.asyncio import serve
from hypercorn.config import Config
from quart import Quart

from tradesim.entrypoints.settings import Settings

#: Client frames are small op messages; anything bigger is refused by hypercorn (close 1009).
MAX_WS_MESSAGE = 64 * 1024


def hypercorn_config(settings: Settings) -> Config:
    config = Config()
    config.bind = [f"{settings.http_host}:{settings.http_port}"]
    if settings.metrics_port is not None:
        # The app answers only /metrics there (app.py), so an operator can expose it to the scraper alone.
        config.bind.append(f"{settings.http_host}:{settings.metrics_port}")
    # Our own structured access log replaces hypercorn's.
    config.accesslog = None
    config.errorlog = "-"
    # Room for thousands of sockets connecting at once (the kernel caps it at somaxconn).
    config.backlog = 4096
    config.websocket_max_message_size = MAX_WS_MESSAGE
    config.websocket_ping_interval = 20.0
    config.graceful_timeout = 5.0
    config.include_server_header = False
    # An idle keep-alive connection outlives the load balancer's (infra/cdk edge.py: 300 s):
    # when the server closed first, a request the client sent on the connection at that moment met
    # a reset (a 502 behind the ALB, a `Connection reset by peer` for a bot talking to us directly).
    config.keep_alive_timeout = 310.0
    return config


async def serve_api(
    app: Quart, settings: Settings, *, shutdown_trigger: Callable[..., Awaitable[object]] | None = None
) -> None:
    """Serve until `shutdown_trigger` completes (by default: until SIGINT or SIGTERM)."""
    await serve(app, hypercorn_config(settings), shutdown_trigger=shutdown_trigger)
