"""What every process needs: settings, the role's container options, clock, instruments, ids."""

from __future__ import annotations

import uuid
from typing import TypeVar

from dependency_injector import containers, providers

from tradesim.adapters.system_clock import SystemClock
from tradesim.domain.catalog import default_catalog
from tradesim.entrypoints.roles import ContainerOptions
from tradesim.entrypoints.settings import Settings

T = TypeVar("T")


class Started(providers.Resource[T]):
    """A resource started with the process (`runner.run_role`), where a plain `providers.Resource`
    starts on first use: the closers of clients that are built synchronously (the SQL pool, the
    Redis client), which nothing asks for and which must still be closed at shutdown. Every
    resource that was started, of either kind, is shut down with the process."""


def new_id() -> str:
    return str(uuid.uuid4())


class Core(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    options = providers.Dependency(instance_of=ContainerOptions, default=ContainerOptions())
    clock = providers.Singleton(SystemClock)
    catalog = providers.Singleton(default_catalog)
    ids = providers.Object(new_id)
