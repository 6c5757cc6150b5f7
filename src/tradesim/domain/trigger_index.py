"""Price-ordered heaps of resting and conditional orders, so a quiet tick costs O(1) to check.

Each heap answers one question, "is anything due at this price?", by looking only at its top.
Removal is lazy: a removed key stays in the heap until it reaches the top, where it is
discarded because its sequence number is no longer the live one. Push and pop are O(log n).
"""

from __future__ import annotations

import heapq
from decimal import Decimal


class PriceHeap:
    """Keys ordered by price; `highest_first` for buy limits, falls-to triggers and long liquidations.

    A key is *due* at `price` when its own price is at or beyond `price` in the heap's order:
    lowest-first heaps hold keys due when ``key_price <= price`` (sell limits fill when the market
    rises to them, rises-to triggers), highest-first heaps keys due when ``key_price >= price``.
    """

    __slots__ = ("_highest_first", "_live", "entries")

    def __init__(self, *, highest_first: bool) -> None:
        #: The heap itself. Read-only outside this class: the engine's quiet-tick check compares
        #: ``entries[0][0]`` with `bound(price)` directly, to save a method call per heap per tick.
        self.entries: list[tuple[Decimal, int, str]] = []
        self._live: dict[str, int] = {}
        self._highest_first = highest_first

    def push(self, key: str, price: Decimal, seq: int) -> None:
        """Insert or re-price `key`; `seq` breaks ties first-in first-out and must grow."""
        self._live[key] = seq
        heapq.heappush(self.entries, (-price if self._highest_first else price, seq, key))

    def remove(self, key: str) -> None:
        if self._live.pop(key, None) is not None and len(self.entries) > 64 and len(self.entries) > 4 * len(self._live):
            self._rebuild()

    def __contains__(self, key: str) -> bool:
        return key in self._live

    def __len__(self) -> int:
        return len(self._live)

    def bound(self, price: Decimal) -> Decimal:
        """The value the top entry is compared with: `price`, negated for highest-first heaps."""
        return -price if self._highest_first else price

    def pop_due(self, price: Decimal) -> str | None:
        """Remove and return the nearest key that is due at `price`, or None."""
        heap = self.entries
        bound = -price if self._highest_first else price
        live = self._live
        while heap and heap[0][0] <= bound:
            _, seq, key = heapq.heappop(heap)
            if live.get(key) == seq:
                del live[key]
                return key
        self._compact_top()
        return None

    def peek_price(self) -> Decimal | None:
        """The price of the nearest live key."""
        self._compact_top()
        if not self.entries:
            return None
        value = self.entries[0][0]
        return -value if self._highest_first else value

    def _compact_top(self) -> None:
        heap, live = self.entries, self._live
        while heap and live.get(heap[0][2]) != heap[0][1]:
            heapq.heappop(heap)

    def _rebuild(self) -> None:
        # Many lazily removed entries: rebuild so memory tracks the live set (amortised O(1)).
        live = self._live
        self.entries = [entry for entry in self.entries if live.get(entry[2]) == entry[1]]
        heapq.heapify(self.entries)
