"""The deployment host of a worker process, composed here rather than in the container: it needs
Jesse, and the container is imported by the api process, which must never import Jesse."""

from __future__ import annotations

from tradesim.application.deployment_host import DeploymentHost, HostConfig
from tradesim.entrypoints.container import Container, provide, worker_identity


async def build_deployment_host(container: Container) -> DeploymentHost:
    from tradesim.adapters.jesse.catalogue import StrategyCatalogue
    from tradesim.adapters.jesse.deployments import JesseDeployments

    settings = container.settings()
    catalog = container.core.catalog()
    strategies = JesseDeployments(StrategyCatalogue(settings.strategies_dirs), catalog)
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
