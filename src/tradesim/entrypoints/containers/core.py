"""What every process needs: settings, the role's container options, clock, instruments, ids."""

from __future__ import annotations

import uuid
from typing import TypeVar

from dependency_injector import containers, providers

from tradesim.adapters.system_clock import SystemClock
from tradesim.application.limits import Quota, Quotas
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


def quotas_of(settings: Settings) -> Quotas:
    """The count quotas per user, from their settings (docs/security.md)."""
    return Quotas(
        accounts=Quota("accounts", settings.max_accounts_per_user, "TRADESIM_MAX_ACCOUNTS_PER_USER"),
        replays=Quota("replay sessions playing", settings.max_replays_per_user, "TRADESIM_MAX_REPLAYS_PER_USER"),
        api_keys=Quota("API keys", settings.max_api_keys_per_user, "TRADESIM_MAX_API_KEYS_PER_USER"),
        strategy_runs=Quota(
            "strategy runs queued or running",
            settings.max_strategy_runs_per_user,
            "TRADESIM_MAX_STRATEGY_RUNS_PER_USER",
        ),
    )


class Core(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    options = providers.Dependency(instance_of=ContainerOptions, default=ContainerOptions())
    clock = providers.Singleton(SystemClock)
    catalog = providers.Singleton(default_catalog)
    ids = providers.Object(new_id)
    #: Count quotas per user; a feature takes its own (`quotas.provided.api_keys`).
    quotas = providers.Singleton(quotas_of, settings)
