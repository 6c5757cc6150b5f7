"""Out-of-order and replayed data: dropped here, before anything is merged or published."""

from __future__ import annotations

from collections.abc import Hashable


class Recency:
    """The newest timestamp seen per key; an older one (a ticker after a newer ticker) is refused.

    Equal timestamps pass: venues stamp several pushes with the same millisecond.
    """

    def __init__(self) -> None:
        self._last: dict[Hashable, int] = {}

    def admit(self, key: Hashable, ts: int) -> bool:
        last = self._last.get(key)
        if last is not None and ts < last:
            return False
        self._last[key] = ts
        return True

    def last(self, key: Hashable) -> int | None:
        return self._last.get(key)


class TradeFilter:
    """Drops trades older than the newest one seen, and repeats of trades at that same millisecond.

    After a reconnect, venues replay recent trades (Bitget's trade snapshot); passing them on
    would show the engine an old price as if it had just traded.
    """

    def __init__(self) -> None:
        self._last: dict[Hashable, tuple[int, set[str]]] = {}

    def admit(self, key: Hashable, ts: int, trade_id: str) -> bool:
        seen = self._last.get(key)
        if seen is None or ts > seen[0]:
            self._last[key] = (ts, {trade_id})
            return True
        if ts < seen[0] or trade_id in seen[1]:
            return False
        seen[1].add(trade_id)
        return True
