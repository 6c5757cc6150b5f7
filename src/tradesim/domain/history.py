"""The index of stored candle history: one file per symbol and UTC day."""

from __future__ import annotations

from datetime import date

import attrs


@attrs.frozen(slots=True)
class CandleFile:
    """`uri` of the Parquet file, its row count and SHA-256 checksum (hex)."""

    symbol: str
    day: date
    uri: str
    rows: int
    checksum: str
    category: str = "linear"
