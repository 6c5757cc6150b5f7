"""What one api process keeps while it serves: metrics, latest tickers, the socket hub, and its feeds."""

from __future__ import annotations

from dependency_injector import containers, providers

from tradesim.application.directory import AccountDirectory
from tradesim.application.portfolio import PortfolioQueries
from tradesim.application.prices import AccountPrices
from tradesim.entrypoints.http.observability import ApiMetrics
from tradesim.entrypoints.http.tickers import TickerCache
from tradesim.entrypoints.http.ws.account_feed import AccountFeed
from tradesim.entrypoints.http.ws.hub import Hub
from tradesim.entrypoints.http.ws.replay_feed import ReplayFeed
from tradesim.entrypoints.http.ws.sessions import SocketSessions
from tradesim.entrypoints.http.ws.socket_quota import SocketQuota
from tradesim.entrypoints.http.ws.strategy_run_feed import StrategyRunFeed
from tradesim.ports.limits import RateCounters
from tradesim.ports.messaging import EventBus
from tradesim.ports.security import RevocationBus


class Api(containers.DeclarativeContainer):
    core = providers.DependenciesContainer()
    persistence = providers.DependenciesContainer()
    replay = providers.DependenciesContainer()
    strategies = providers.DependenciesContainer()
    event_bus: providers.Dependency[EventBus] = providers.Dependency()
    portfolio: providers.Dependency[PortfolioQueries] = providers.Dependency()
    directory: providers.Dependency[AccountDirectory] = providers.Dependency()
    rate_counters: providers.Dependency[RateCounters] = providers.Dependency()
    revocations: providers.Dependency[RevocationBus] = providers.Dependency()

    metrics = providers.Singleton(ApiMetrics)
    tickers = providers.Singleton(TickerCache, symbols=core.settings.provided.symbols)
    hub = providers.Singleton(Hub, metrics=metrics)
    #: Live tickers for live accounts, the session's price for replay accounts.
    prices = providers.Singleton(
        AccountPrices,
        live=tickers,
        replays=replay.prices,
        directory=directory,
        uow_factory=persistence.unit_of_work.provider,
    )
    account_feed = providers.Singleton(
        AccountFeed, bus=event_bus, hub=hub, tickers=tickers, portfolio=portfolio, metrics=metrics, prices=prices
    )
    #: Ends sockets whose token expired or whose login was revoked.
    sessions = providers.Singleton(SocketSessions, clock=core.clock, revocations=revocations)
    socket_quota = providers.Singleton(
        SocketQuota,
        counters=rate_counters,
        clock=core.clock,
        per_user=core.settings.provided.max_websockets_per_user,
        per_address=core.settings.provided.max_websockets_per_address,
    )
    replay_feed = providers.Singleton(
        ReplayFeed, bus=replay.bar_bus, hub=hub, uow_factory=persistence.unit_of_work.provider
    )
    strategy_run_feed = providers.Singleton(
        StrategyRunFeed, updates=strategies.updates, hub=hub, uow_factory=persistence.unit_of_work.provider
    )
