"""The deployment host of a worker process, composed here rather than in the container: it needs
Jesse, and the container is imported by the api process, which must never import Jesse."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from tradesim.application.deployment_host import DeploymentHost, HostConfig
from tradesim.entrypoints.container import Container, provide, worker_identity

if TYPE_CHECKING:
    from tradesim.domain.instruments import InstrumentCatalog
    from tradesim.ports.deployments import DeployedStrategies


async def build_deployment_host(container: Container) -> DeploymentHost:
    """Jesse is imported on a thread of its own: it takes seconds, during which the worker's event
    loop keeps its partitions' leases and serves its orders."""
    settings = container.settings()
    catalog = container.core.catalog()
    strategies = await asyncio.to_thread(_jesse_strategies, settings.strategies_dirs, catalog)
    return DeploymentHost(
        HostConfig(owner=worker_identity(), lease_ttl_ms=settings.worker_lease_ttl_ms),
        uow_factory=container.persistence.unit_of_work,
        strategies=strategies,
        orders=await provide(container.orders()),
        prices=await provide(container.messaging.price_bus()),
        replay_bars=await provide(container.replay.bar_bus()),
        events=await provide(container.messaging.event_bus()),
        directory=container.directory(),
        clock=container.core.clock(),
    )


async def serve_deployments(container: Container, stop: asyncio.Event) -> None:
    host = await build_deployment_host(container)
    await host.run(stop)


def _jesse_strategies(dirs: Sequence[Path], catalog: InstrumentCatalog) -> DeployedStrategies:
    from tradesim.adapters.jesse.catalogue import StrategyCatalogue
    from tradesim.adapters.jesse.deployments import JesseDeployments

    return JesseDeployments(StrategyCatalogue(dirs), catalog)
