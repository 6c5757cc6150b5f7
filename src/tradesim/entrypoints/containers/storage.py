"""Object storage. In-memory until the local-folder and S3 adapters land (issue 7)."""

from __future__ import annotations

from dependency_injector import containers, providers

from tradesim.adapters.memory.storage import MemoryBlobStore, MemoryCandleStore


class Storage(containers.DeclarativeContainer):
    core = providers.DependenciesContainer()
    blob_store = providers.Singleton(MemoryBlobStore)
    candle_store = providers.Singleton(MemoryCandleStore)
