"""Fixtures for tests against real services (see `tests/services.py`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests import services


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    with services.postgres_server_url() as url:
        yield url


@pytest.fixture(scope="session")
def postgres_url(postgres_server: str) -> Iterator[str]:
    """An empty PostgreSQL database of this test session."""
    with services.fresh_postgres_database(postgres_server) as url:
        yield url


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    with services.redis_server_url() as url:
        yield url


@pytest.fixture
def redis_namespace() -> str:
    """Prefix every key and channel of one test with this, so concurrent runs never meet."""
    return services.unique_namespace()
