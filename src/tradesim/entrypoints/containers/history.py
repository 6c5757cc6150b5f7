"""Candle history: the exchange it is fetched from (`ContainerOptions.history_source`), and the sync
use case over the store and the index. `sync` depends on a resource: `await provide(container.history.sync())`."""

from __future__ import annotations

from collections.abc import AsyncIterator

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


async def source_lifetime(settings: Settings, exchange: str) -> AsyncIterator[HistorySource]:
    source = history_source(settings, exchange)
    try:
        yield source
    finally:
        await source.aclose()  # type: ignore[attr-defined]


class History(containers.DeclarativeContainer):
    core = providers.DependenciesContainer()
    persistence = providers.DependenciesContainer()
    storage = providers.DependenciesContainer()
    #: Started on first use (an HTTP client is costly to build), closed with the process.
    source = providers.Resource(source_lifetime, settings=core.settings, exchange=core.options.provided.history_source)
    sync = providers.Factory(
        HistorySync,
        source=source,
        store=storage.candle_store,
        uow_factory=persistence.unit_of_work.provider,
        clock=core.clock,
    )
