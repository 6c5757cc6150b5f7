"""Starting a container: the embedded SQLite file is migrated on start, then the container is built.

PostgreSQL is migrated only by `tradesim db upgrade` (the delivery's one-off migration task, run
before the services are updated); the embedded SQLite default belongs to one machine and one user,
so every command brings it to the head revision itself and a fresh checkout just works.
`runner.run_role` does this for every command; `start_container` is the same for tests.
"""

from __future__ import annotations

import inspect
from pathlib import Path

from tradesim.entrypoints.container import Container, build_container
from tradesim.entrypoints.settings import Settings


async def prepare_database(settings: Settings) -> None:
    if not settings.uses_sqlite:
        return
    from tradesim.adapters.sqlalchemy.migrate import upgrade_to_head_async

    sqlite_folder(settings.database_url).mkdir(parents=True, exist_ok=True)
    await upgrade_to_head_async(settings.database_url)


def sqlite_folder(url: str) -> Path:
    """The folder of a SQLite file URL (the current one for an in-memory database)."""
    path = url.split(":///", 1)[-1]
    return Path(path).parent if path and path != ":memory:" else Path()


async def start_container(settings: Settings) -> Container:
    """Migrate what is ours to migrate, build the container, start its resources."""
    await prepare_database(settings)
    container = build_container(settings)
    await _settle(container.init_resources())
    return container


async def stop_container(container: Container) -> None:
    """Close what the container opened (pools, clients)."""
    await _settle(container.shutdown_resources())


async def _settle(result: object) -> None:
    # dependency-injector returns an awaitable only when some resource is asynchronous.
    if inspect.isawaitable(result):
        await result
