"""Stored 1m history as one gap-free run of minutes, in the two forms the runtime needs.

Jesse's candle store expects contiguous 1m rows (it derives bigger bars by counting them), so a
minute missing from the history is filled with a flat bar at the previous close and no volume,
the convention of exchanges' own klines for a minute without trades. Nothing is filled before
the first stored bar.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs
import numpy as np

from tradesim.domain.bars import DayBars

MINUTE_MS = 60_000


@attrs.frozen(eq=False)
class Minutes:
    """Contiguous 1m bars: open times, OHLC as integers at ``10**-scale``, and Jesse's float rows."""

    times: np.ndarray  # int64 open times, one minute apart
    prices: np.ndarray  # int64 (n, 4): open, high, low, close
    rows: np.ndarray  # float64 (n, 6): Jesse's [time, open, close, high, low, volume]
    scale: int

    def __len__(self) -> int:
        return len(self.times)

    def index_of(self, ms: int) -> int:
        """Index of the first minute opening at or after `ms`."""
        return int(np.searchsorted(self.times, ms, side="left"))


def contiguous(days: Sequence[DayBars | None], start_ms: int, end_ms: int) -> Minutes | None:
    """The stored bars opening in ``[start_ms, end_ms)``, gaps filled; None when there is none."""
    present = [d for d in days if d is not None and len(d)]
    if not present:
        return None
    scale = max(d.price_scale for d in present)
    times = np.concatenate([np.asarray(d.open_time, dtype=np.int64) for d in present])
    columns = []
    for name in ("open", "high", "low", "close"):
        columns.append(
            np.concatenate(
                [np.asarray(getattr(d, name), dtype=np.int64) * 10 ** (scale - d.price_scale) for d in present]
            )
        )
    volume = np.concatenate([np.asarray(d.volume, dtype=np.float64) / 10**d.volume_scale for d in present])
    keep = (times >= start_ms) & (times < end_ms)
    times, volume = times[keep], volume[keep]
    prices = np.column_stack([c[keep] for c in columns])
    if not len(times):
        return None
    order = np.argsort(times, kind="stable")
    times, prices, volume = times[order], prices[order], volume[order]
    full = np.arange(times[0], times[-1] + MINUTE_MS, MINUTE_MS, dtype=np.int64)
    at = np.searchsorted(times, full)
    found = times[np.minimum(at, len(times) - 1)] == full
    # For each minute, the last stored bar at or before it: its close fills a missing minute.
    last = np.maximum.accumulate(np.where(found, at, -1))
    filled = np.where(found[:, None], prices[np.minimum(at, len(times) - 1)], prices[last][:, 3:4])
    filled_volume = np.where(found, volume[np.minimum(at, len(times) - 1)], 0.0)
    # Dividing by an exact power of ten rounds once: the float is the one the decimal text reads as.
    divisor = float(10**scale)
    rows = np.column_stack(
        [
            full.astype(np.float64),
            filled[:, 0] / divisor,
            filled[:, 3] / divisor,
            filled[:, 1] / divisor,
            filled[:, 2] / divisor,
            filled_volume,
        ]
    )
    return Minutes(full, filled, rows, scale)
