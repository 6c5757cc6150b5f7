"""What every process needs: settings, clock, instruments, ids."""

from __future__ import annotations

import uuid

from dependency_injector import containers, providers

from tradesim.adapters.system_clock import SystemClock
from tradesim.domain.catalog import default_catalog
from tradesim.entrypoints.settings import Settings


def new_id() -> str:
    return str(uuid.uuid4())


class Core(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    clock = providers.Singleton(SystemClock)
    catalog = providers.Singleton(default_catalog)
    ids = providers.Object(new_id)
