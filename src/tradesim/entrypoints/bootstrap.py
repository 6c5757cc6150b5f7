"""Starting a process: the embedded SQLite file is migrated on start, then the container is built.

PostgreSQL is migrated only by `tradesim db upgrade` (an operator's step, run once per deploy);
the embedded SQLite default belongs to one machine and one user, so every command brings it to
the head revision itself and a fresh checkout just works.
"""

from __future__ import annotations

from pathlib import Path

from tradesim.entrypoints.container import Container, build_container
from tradesim.entrypoints.settings import Settings


async def prepare_database(settings: Settings) -> None:
    if not settings.uses_sqlite:
        return
    from tradesim.adapters.sqlalchemy.migrate import upgrade_to_head_async

    path = settings.database_url.split(":///", 1)[-1]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    await upgrade_to_head_async(settings.database_url)


async def start_container(settings: Settings) -> Container:
    """Migrate what is ours to migrate, build the container, start its resources."""
    await prepare_database(settings)
    container = build_container(settings)
    await container.init_resources()  # type: ignore[misc]
    return container
