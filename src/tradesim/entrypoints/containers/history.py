"""Candle history: the exchange it is fetched from, and the sync use case over the store and the index."""

from __future__ import annotations

from dependency_injector import containers, providers

from tradesim.application.history import HistorySync
from tradesim.entrypoints.settings import Settings
from tradesim.ports.market_data import HistorySource

EXCHANGES = ("bybit", "bitget")


def history_source(settings: Settings, exchange: str = "bybit") -> HistorySource:
    """A REST client for `exchange` on its base URL from settings (close it with `aclose()`)."""
    if exchange == "bybit":
        from tradesim.adapters.bybit.rest import BybitHistorySource

        return BybitHistorySource(settings.bybit_rest_url)
    if exchange == "bitget":
        from tradesim.adapters.bitget.rest import BitgetHistorySource

        return BitgetHistorySource(settings.bitget_rest_url)
    raise ValueError(f"unknown exchange {exchange!r}; known: {', '.join(EXCHANGES)}")


class History(containers.DeclarativeContainer):
    core = providers.DependenciesContainer()
    persistence = providers.DependenciesContainer()
    storage = providers.DependenciesContainer()
    source = providers.Singleton(history_source, settings=core.settings)
    sync = providers.Factory(
        HistorySync,
        source=source,
        store=storage.candle_store,
        uow_factory=persistence.unit_of_work.provider,
        clock=core.clock,
    )
