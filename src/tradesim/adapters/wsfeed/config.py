"""Timings of a feed connection. Defaults suit the real venues; tests shrink them."""

from __future__ import annotations

import attrs


@attrs.frozen
class FeedConfig:
    """
    stale_after: seconds without a market-data frame before the connection counts as silent: it
        is dropped and reconnected and its symbols are marked stale. 10 s: Bybit pushes tickers
        every 100 ms (spot order book at least every 3 s) and Bitget every 100-300 ms for
        liquid symbols, and the engine's own price-age limit (30 s) should never be the
        first line of defence.
    heartbeat_interval: seconds between application pings; None takes the venue's (Bybit 20 s,
        Bitget 30 s).
    backoff_initial, backoff_cap: reconnect delays grow from initial to cap (equal jitter).
    healthy_after: a connection that lived this long resets the backoff, so that a routine
        disconnect (Bitget's daily one) reconnects at once while a flapping server is retried
        ever more slowly (Bybit allows 500 new connections per 5 minutes per IP).
    """

    stale_after: float = 10.0
    heartbeat_interval: float | None = None
    backoff_initial: float = 0.5
    backoff_cap: float = 30.0
    healthy_after: float = 30.0
    open_timeout: float = 10.0
    close_timeout: float = 2.0
    max_message_bytes: int = 8 * 2**20
    #: Frames buffered by the WebSocket before reading pauses (TCP flow control takes over).
    max_queue: int = 1024

    def __attrs_post_init__(self) -> None:
        if self.stale_after <= 0:
            raise ValueError(f"stale_after must be positive, got {self.stale_after}")
