"""Integration fixtures beyond the shared ones in tests/conftest.py (see `tests/services.py`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import services
from tests.integration.databases import migrated_postgres_database, migrated_sqlite_file
from tradesim.adapters.sqlalchemy.migrate import upgrade_to_head


@pytest.fixture(scope="session")
def migrated_postgres_url(postgres_server: str) -> Iterator[str]:
    """A PostgreSQL database of this session at the head revision (tests leave their rows; use
    ids of their own or `databases.empty_tables`)."""
    with migrated_postgres_database() as url:
        yield url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head once per session; copy it rather than write to it."""
    return migrated_sqlite_file(tmp_path_factory.mktemp("sqlite-template") / "template.sqlite3")


@pytest.fixture
def database_url(postgres_server: str) -> Iterator[str]:
    """A PostgreSQL database of this test's own at the head revision (for tests that run processes
    against it and must find it empty), dropped afterwards."""
    with services.fresh_postgres_database(postgres_server) as url:
        upgrade_to_head(url)
        yield url
