"""Live market feeds, as TRADESIM_FEEDS names them: one connection per Bybit category, one for Bitget."""

from __future__ import annotations

from dependency_injector import containers, providers

from tradesim.adapters.bitget.feed import bitget_feed
from tradesim.adapters.bybit.feed import bybit_feed
from tradesim.adapters.wsfeed.config import FeedConfig
from tradesim.adapters.wsfeed.feed import WebSocketFeed
from tradesim.domain.enums import Category
from tradesim.entrypoints.settings import Settings

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


class MarketData(containers.DeclarativeContainer):
    core = providers.DependenciesContainer()
    feeds = providers.Singleton(build_feeds, settings=core.settings)
