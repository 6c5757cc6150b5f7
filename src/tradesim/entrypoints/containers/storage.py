"""Object storage, chosen by `TRADESIM_OBJECT_STORE_URL`: ``file:///path`` a local folder, ``s3://bucket/prefix`` S3.

`TRADESIM_S3_ENDPOINT_URL` points S3 at another endpoint (MinIO, moto). Credentials and region
come from the standard AWS chain (the ECS task role in production), never from our settings.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from dependency_injector import containers, providers

from tradesim.domain.bars import scale_of
from tradesim.domain.enums import Category
from tradesim.domain.instruments import InstrumentCatalog
from tradesim.entrypoints.settings import ConfigurationError, Settings
from tradesim.ports.storage import BlobStore, CandleStore


def _scheme(settings: Settings) -> str:
    scheme = urlsplit(settings.object_store_url).scheme
    if scheme not in ("file", "s3"):
        raise ConfigurationError(
            f"TRADESIM_OBJECT_STORE_URL must be file:///path or s3://bucket/prefix, not {settings.object_store_url!r}"
        )
    return scheme


def price_scales(catalog: InstrumentCatalog) -> dict[str, int]:
    """Each linear symbol's tick-size decimals: the least scale its candle files are written with."""
    return {i.symbol: scale_of(i.tick_size) for i in catalog if i.category is Category.LINEAR}


def blob_store_for(settings: Settings) -> BlobStore:
    if _scheme(settings) == "file":
        from tradesim.adapters.localfs.objects import folder_of
        from tradesim.adapters.localfs.stores import LocalBlobStore

        return LocalBlobStore(folder_of(settings.object_store_url))
    from tradesim.adapters.s3.objects import S3Location, S3Objects
    from tradesim.adapters.s3.stores import S3BlobStore

    location = S3Location.from_url(settings.object_store_url, endpoint_url=settings.s3_endpoint_url)
    return S3BlobStore(S3Objects(location))


def candle_store_for(settings: Settings, catalog: InstrumentCatalog) -> CandleStore:
    scales = price_scales(catalog)
    if _scheme(settings) == "file":
        from tradesim.adapters.localfs.objects import folder_of
        from tradesim.adapters.localfs.stores import local_candle_store

        return local_candle_store(folder_of(settings.object_store_url), price_scales=scales)
    from tradesim.adapters.s3.objects import S3Location, S3Objects
    from tradesim.adapters.s3.stores import s3_candle_store

    location = S3Location.from_url(settings.object_store_url, endpoint_url=settings.s3_endpoint_url)
    return s3_candle_store(S3Objects(location), price_scales=scales)


class Storage(containers.DeclarativeContainer):
    core = providers.DependenciesContainer()
    blob_store = providers.Singleton(blob_store_for, settings=core.settings)
    candle_store = providers.Singleton(candle_store_for, settings=core.settings, catalog=core.catalog)
