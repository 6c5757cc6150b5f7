"""Splitting subscriptions into requests that stay within a venue's per-request limits."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")


def chunked(items: Sequence[T], *, max_items: int | None, max_chars: int, size: Callable[[T], int]) -> list[list[T]]:
    """Consecutive groups of at most `max_items` items whose `size` adds up to at most `max_chars`.

    An item bigger than `max_chars` on its own still gets a group (the venue will say no).
    """
    groups: list[list[T]] = []
    current: list[T] = []
    used = 0
    for item in items:
        cost = size(item)
        if current and ((max_items is not None and len(current) >= max_items) or used + cost > max_chars):
            groups.append(current)
            current, used = [], 0
        current.append(item)
        used += cost
    if current:
        groups.append(current)
    return groups
