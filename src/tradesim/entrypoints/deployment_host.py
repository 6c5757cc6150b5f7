"""The deployment host of a worker process, composed here rather than in the container: it needs
Jesse, and the container is imported by the api process, which must never import Jesse."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from tradesim.application.deployment_host import DeploymentHost, HostConfig
from tradesim.domain.strategy_specs import StrategySpec
from tradesim.entrypoints.container import Container, provide, worker_identity
from tradesim.ports.errors import DependencyUnavailable

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from tradesim.domain.instruments import InstrumentCatalog
    from tradesim.ports.deployments import DeployedStrategies
    from tradesim.ports.strategy_runs import StrategyCatalogueBoard


#: How often the catalogue is published again (a Redis that lost its keys gets it back).
PUBLISH_EVERY_S = 30.0


async def build_deployment_host(container: Container) -> DeploymentHost:
    """The host, with the strategies it loaded published once (see `serve_deployments`)."""
    strategies, _, _ = await _load_and_publish(container)
    return await _host(container, strategies)


async def serve_deployments(container: Container, stop: asyncio.Event) -> None:
    """Runs the host until `stop`. The strategies it loaded are published for the api
    (`StrategyCatalogueBoard`), which checks new deployments against them, and again every
    `PUBLISH_EVERY_S`."""
    strategies, specs, board = await _load_and_publish(container)
    host = await _host(container, strategies)
    async with asyncio.TaskGroup() as tasks:
        tasks.create_task(_republish(board, specs, stop))
        await host.run(stop)


async def _load_and_publish(
    container: Container,
) -> tuple[DeployedStrategies, list[StrategySpec], StrategyCatalogueBoard]:
    """Jesse is imported on a thread of its own: it takes seconds, during which the worker's event
    loop keeps its partitions' leases and serves its orders."""
    dirs = container.settings().strategies_dirs
    strategies, specs = await asyncio.to_thread(_jesse_strategies, dirs, container.core.catalog())
    board = await provide(container.strategies.board())
    await board.publish(specs)
    return strategies, specs, board


async def _host(container: Container, strategies: DeployedStrategies) -> DeploymentHost:
    return DeploymentHost(
        HostConfig(owner=worker_identity(), lease_ttl_ms=container.settings().worker_lease_ttl_ms),
        uow_factory=container.persistence.unit_of_work,
        strategies=strategies,
        orders=await provide(container.orders()),
        prices=await provide(container.messaging.price_bus()),
        replay_bars=await provide(container.replay.bar_bus()),
        events=await provide(container.messaging.event_bus()),
        directory=container.directory(),
        clock=container.core.clock(),
    )


async def _republish(board: StrategyCatalogueBoard, specs: list[StrategySpec], stop: asyncio.Event) -> None:
    while True:
        try:
            await asyncio.wait_for(stop.wait(), PUBLISH_EVERY_S)
            return
        except TimeoutError:
            pass
        try:
            await board.publish(specs)
        except DependencyUnavailable as error:
            log.warning("deployments: the strategy catalogue could not be published: %s; retrying", error)


def _jesse_strategies(
    dirs: Sequence[Path], catalog: InstrumentCatalog
) -> tuple[DeployedStrategies, list[StrategySpec]]:
    from tradesim.adapters.jesse.catalogue import StrategyCatalogue
    from tradesim.adapters.jesse.deployments import JesseDeployments

    catalogue = StrategyCatalogue(dirs)
    return JesseDeployments(catalogue, catalog), [info.spec() for info in catalogue.list()]
