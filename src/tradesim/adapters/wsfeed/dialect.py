"""The contract between the generic connection loop and a venue's wire format."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from tradesim.domain.enums import Category
from tradesim.domain.market import MarketEvent


class Unusable(Exception):
    """A received frame that cannot be used; the feed counts `reason`, logs it and moves on."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class Dialect(Protocol):
    """One venue's protocol on one connection. No I/O: the feed sends and receives for it."""

    #: (category, symbol) of everything this connection streams; marked stale together.
    instruments: tuple[tuple[Category, str], ...]
    #: Seconds between the venue's application-level pings.
    heartbeat_interval: float
    #: Seconds to wait between two subscribe frames (venues limit messages per second).
    send_interval: float

    def subscribe_frames(self) -> Sequence[str]:
        """The frames that subscribe to every channel, within the venue's per-request limits."""
        ...

    def ping_frame(self) -> str: ...

    def on_connect(self) -> None:
        """Forget what a new connection re-sends (snapshots to merge deltas into)."""
        ...

    def decode(self, frame: str | bytes) -> list[MarketEvent] | None:
        """Events of a data frame (possibly none), or None for a control frame (ack, pong).

        Raises:
            Unusable: with the reason to count (malformed JSON, unknown topic...).
        """
        ...
