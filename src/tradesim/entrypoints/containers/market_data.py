"""Market feeds: live, as TRADESIM_FEEDS names them (one connection per Bybit category, one for
Bitget), or stored history played as live (`ContainerOptions.feed == "replay"`, `serve --feed replay`)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from dependency_injector import containers, providers

from tradesim.adapters.bitget.feed import bitget_feed
from tradesim.adapters.bybit.feed import bybit_feed
from tradesim.adapters.wsfeed.config import FeedConfig
from tradesim.adapters.wsfeed.feed import WebSocketFeed
from tradesim.domain.enums import Category
from tradesim.entrypoints.roles import ContainerOptions
from tradesim.entrypoints.settings import Settings
from tradesim.ports.clock import Clock
from tradesim.ports.market_data import MarketFeed
from tradesim.ports.storage import CandleStore
from tradesim.ports.unit_of_work import UnitOfWorkFactory

BITGET_INST_TYPES = {"bitget-linear": "USDT-FUTURES", "bitget-spot": "SPOT"}


def build_feeds(settings: Settings) -> list[WebSocketFeed]:
    config = FeedConfig(stale_after=settings.feed_stale_seconds)
    feeds = []
    if "bybit-linear" in settings.feeds:
        feeds.append(bybit_feed(settings.bybit_ws_url, Category.LINEAR, config))
    if "bybit-spot" in settings.feeds:
        feeds.append(bybit_feed(settings.bybit_ws_url, Category.SPOT, config))
    inst_types = [inst_type for name, inst_type in BITGET_INST_TYPES.items() if name in settings.feeds]
    if inst_types:  # Bitget serves every instType on one socket
        feeds.append(bitget_feed(settings.bitget_ws_url, inst_types, config))
    return feeds


def stored_feeds(
    options: ContainerOptions, uow_factory: UnitOfWorkFactory, store: CandleStore, clock: Clock
) -> list[MarketFeed]:
    from tradesim.adapters.stored_feed import StoredHistoryFeed

    start = date.fromisoformat(options.replay_from) if options.replay_from else None
    return [StoredHistoryFeed(uow_factory, store, clock, bars_per_second=Decimal(options.replay_speed), start=start)]


class MarketData(containers.DeclarativeContainer):
    core = providers.DependenciesContainer()
    persistence = providers.DependenciesContainer()
    storage = providers.DependenciesContainer()
    feeds = providers.Selector(
        core.options.provided.feed,
        live=providers.Singleton(build_feeds, settings=core.settings),
        replay=providers.Singleton(
            stored_feeds,
            options=core.options,
            uow_factory=persistence.unit_of_work.provider,
            store=storage.candle_store,
            clock=core.clock,
        ),
    )
