"""Candles from the database (closed bars the streamer wrote)."""

from __future__ import annotations

from tradesim.domain.errors import InvalidInput
from tradesim.domain.instruments import InstrumentCatalog
from tradesim.domain.market import INTERVAL_MS, Candle
from tradesim.ports.unit_of_work import UnitOfWorkFactory

MAX_CANDLES = 1000


class CandleQueries:
    def __init__(self, uow_factory: UnitOfWorkFactory, catalog: InstrumentCatalog) -> None:
        self._uow = uow_factory
        self._catalog = catalog

    async def range(self, symbol: str, interval: str, start_ms: int, end_ms: int) -> list[Candle]:
        """Bars with start <= open time < end. Raises: UnknownSymbol, InvalidInput (interval, range)."""
        self._catalog.get(symbol)
        if interval not in INTERVAL_MS:
            raise InvalidInput(f"interval must be one of {', '.join(INTERVAL_MS)}, not {interval!r}")
        if end_ms <= start_ms:
            raise InvalidInput("end must be after start")
        if (end_ms - start_ms) // INTERVAL_MS[interval] > MAX_CANDLES:
            raise InvalidInput(f"at most {MAX_CANDLES} candles per request: narrow start..end")
        async with self._uow() as uow:
            return await uow.candles.range(symbol, start_ms, end_ms, interval=interval)
