"""Per-feed counters. Every skipped message is counted by reason and logged without flooding."""

from __future__ import annotations

import logging
from collections import Counter

log = logging.getLogger("tradesim.feed")

#: A reason is logged the first time, then once every this many occurrences.
LOG_EVERY = 1000


class FeedStats:
    """`counts` holds both routine events (``connected``, ``pong``, ``subscribed``) and drops.

    Drops (`drop`) are the messages a feed skipped: malformed frames, unknown topics,
    out-of-order tickers. `dropped` holds them alone, keyed by reason, for tests and metrics.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.counts: Counter[str] = Counter()
        self.dropped: Counter[str] = Counter()

    def count(self, key: str, n: int = 1) -> None:
        self.counts[key] += n

    def drop(self, reason: str, detail: str = "") -> None:
        self.dropped[reason] += 1
        seen = self.dropped[reason]
        if seen == 1 or seen % LOG_EVERY == 0:
            log.warning("%s: skipped a message (%s, %d so far): %s", self.name, reason, seen, detail[:200])

    def snapshot(self) -> dict[str, int]:
        """Counters as one flat dict (drops prefixed ``dropped.``), for logs and metrics."""
        flat = dict(self.counts)
        flat.update({f"dropped.{reason}": n for reason, n in self.dropped.items()})
        return flat
