"""Reading the client's replies: bytes, as the clients here do not decode responses."""

from __future__ import annotations


def text(value: bytes | str | int) -> str:
    """A reply (a key, a channel, an entry id, a member) as text."""
    return value.decode() if isinstance(value, bytes) else str(value)
