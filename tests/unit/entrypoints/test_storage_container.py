"""The storage container picks the adapters from `TRADESIM_OBJECT_STORE_URL`."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tests.contract import records
from tests.support.moto_s3 import ACCESS_KEY, REGION, SECRET_KEY, MotoS3
from tradesim.adapters.localfs.stores import LocalBlobStore
from tradesim.adapters.s3.stores import S3BlobStore
from tradesim.entrypoints.container import build_container
from tradesim.entrypoints.settings import ConfigurationError, Settings


def settings(tmp_path: Path, **env: str) -> Settings:
    return Settings.from_env({"TRADESIM_DATA_DIR": str(tmp_path)} | env)


async def test_the_default_is_a_folder_in_the_data_dir(tmp_path: Path) -> None:
    container = build_container(settings(tmp_path))
    assert isinstance(container.storage.blob_store(), LocalBlobStore)
    store = container.storage.candle_store()
    written = await store.write_day("BTCUSDT", date(2023, 11, 14), [records.candle(0, close="30001.5")])
    assert written.uri.startswith((tmp_path / "objects").resolve().as_uri())
    read = await store.read_day("BTCUSDT", date(2023, 11, 14))
    assert read is not None
    assert str(read[0].close) == "30001.50"  # BTCUSDT's tick is 0.10: files keep two decimals


async def test_an_s3_url_with_an_endpoint_gives_the_s3_stores(
    tmp_path: Path, moto_s3: MotoS3, monkeypatch: pytest.MonkeyPatch
) -> None:
    bucket = moto_s3.fresh_bucket().location.bucket
    for name, value in (
        ("AWS_ACCESS_KEY_ID", ACCESS_KEY),
        ("AWS_SECRET_ACCESS_KEY", SECRET_KEY),
        ("AWS_DEFAULT_REGION", REGION),
    ):
        monkeypatch.setenv(name, value)
    container = build_container(
        settings(
            tmp_path,
            TRADESIM_OBJECT_STORE_URL=f"s3://{bucket}/prod",
            TRADESIM_S3_ENDPOINT_URL=moto_s3.endpoint_url,
        )
    )
    blobs = container.storage.blob_store()
    assert isinstance(blobs, S3BlobStore)
    await blobs.put("journal/a.png", b"png", "image/png")
    assert blobs.objects.location.key("journal/a.png") == "prod/journal/a.png"
    written = await container.storage.candle_store().write_day("BTCUSDT", date(2023, 11, 14), [records.candle(0)])
    assert written.uri == f"s3://{bucket}/prod/data/BTCUSDT/2023/11/14.parquet"


def test_an_unknown_scheme_is_a_configuration_error(tmp_path: Path) -> None:
    container = build_container(settings(tmp_path, TRADESIM_OBJECT_STORE_URL="ftp://host/x"))
    with pytest.raises(ConfigurationError, match="TRADESIM_OBJECT_STORE_URL"):
        container.storage.blob_store()
