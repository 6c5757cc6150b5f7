"""Shared test configuration: where the real services and the shared data live."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.moto_s3 import MotoS3, moto_server

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


def require_services() -> bool:
    """In CI a missing service is a failure, never a skip."""
    return os.environ.get("TRADESIM_REQUIRE_SERVICES") == "1"


def unavailable(reason: str) -> None:
    """Skip (on a developer machine) or fail (in CI) a test whose service is missing."""
    if require_services():
        pytest.fail(f"required service missing: {reason}")
    pytest.skip(reason)


def shared_data(*parts: str) -> Path:
    """A file under ../shared/data; skips the test with the reason when it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared data not found at {path} (the ../shared folder sits beside the repo in CI)")
    return path


# Real services (see tests/services.py), for integration and contract suites alike.


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    from tests import services

    with services.postgres_server_url() as url:
        yield url


@pytest.fixture(scope="session")
def postgres_url(postgres_server: str) -> Iterator[str]:
    """An empty PostgreSQL database of this test session."""
    from tests import services

    with services.fresh_postgres_database(postgres_server) as url:
        yield url


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    from tests import services

    with services.redis_server_url() as url:
        yield url


@pytest.fixture
def redis_namespace(request: pytest.FixtureRequest) -> Iterator[str]:
    """Prefix every key and channel of one test with this, so concurrent runs never meet; a test
    on the real Redis leaves none of its keys behind."""
    from tests import services

    namespace = services.unique_namespace()
    yield namespace
    if "redis_url" in request.fixturenames:
        services.forget_namespace(request.getfixturevalue("redis_url"), namespace)


@pytest.fixture(scope="session")
def moto_s3() -> Iterator[MotoS3]:
    """One moto S3 server on loopback for the whole session; take a fresh bucket per test."""
    with moto_server() as s3:
        yield s3
