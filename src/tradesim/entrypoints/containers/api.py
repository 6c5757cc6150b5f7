"""What one api process keeps while it serves: metrics, latest tickers, the socket hub, the account feed."""

from __future__ import annotations

from dependency_injector import containers, providers

from tradesim.application.portfolio import PortfolioQueries
from tradesim.entrypoints.http.observability import ApiMetrics
from tradesim.entrypoints.http.tickers import TickerCache
from tradesim.entrypoints.http.ws.account_feed import AccountFeed
from tradesim.entrypoints.http.ws.hub import Hub
from tradesim.ports.messaging import EventBus


class Api(containers.DeclarativeContainer):
    core = providers.DependenciesContainer()
    event_bus: providers.Dependency[EventBus] = providers.Dependency()
    portfolio: providers.Dependency[PortfolioQueries] = providers.Dependency()

    metrics = providers.Singleton(ApiMetrics)
    tickers = providers.Singleton(TickerCache, symbols=core.settings.provided.symbols)
    hub = providers.Singleton(Hub, metrics=metrics)
    account_feed = providers.Singleton(
        AccountFeed, bus=event_bus, hub=hub, tickers=tickers, portfolio=portfolio, metrics=metrics
    )
