"""Bybit's cursor paging over a list the view already holds: the cursor is the offset of the next
page, and the last page answers an empty `nextPageCursor` (ccxt pages while it is non-empty)."""

from __future__ import annotations

from typing import TypeVar

from tradesim.entrypoints.http.bybit.envelope import PARAMS, BybitRefusal

T = TypeVar("T")

#: How deep a cursor may page (each page reads this far into the account's records).
MAX_OFFSET = 10_000


def offset_of(cursor: str) -> int:
    if not cursor:
        return 0
    if not cursor.isdigit() or int(cursor) > MAX_OFFSET:
        raise BybitRefusal(PARAMS, "params error: cursor is not one this server gave")
    return int(cursor)


def paginate(items: list[T], limit: int, cursor: str) -> tuple[list[T], str]:
    start = offset_of(cursor)
    end = start + limit
    return items[start:end], (str(end) if end < len(items) else "")
