"""The snapshot of Bybit instrument rules that ships with the package, for offline use."""

from __future__ import annotations

import json
from importlib import resources

from tradesim.domain.instruments import Instrument, InstrumentCatalog


def load_bundled_records() -> list[dict[str, object]]:
    text = resources.files("tradesim.domain").joinpath("data/instruments.json").read_text(encoding="utf-8")
    records: list[dict[str, object]] = json.loads(text)["instruments"]
    return records


def default_catalog() -> InstrumentCatalog:
    """Every instrument in the bundled snapshot (BTCUSDT, ETHUSDT, SOLUSDT; linear and spot)."""
    return InstrumentCatalog(Instrument.from_record(r) for r in load_bundled_records())
