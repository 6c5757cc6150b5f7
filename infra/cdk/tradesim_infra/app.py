"""Builds the CDK app: four stacks per deployment, with every environment fact pinned up front."""

from __future__ import annotations

from typing import Any

from aws_cdk import App, Environment, Tags

from .data import DataStack
from .delivery import DeliveryStack
from .network import NetworkStack
from .services import ServicesStack
from .settings import Deployment, cdk_json_context, deployments


def availability_zone_context_key(deployment: Deployment) -> str:
    """The context key CDK reads before it would ask AWS for a region's zones."""
    return f"availability-zones:account={deployment.account}:region={deployment.region}"


def build_app(context: dict[str, Any] | None = None, outdir: str | None = None) -> App:
    context = dict(cdk_json_context() if context is None else context)
    targets = deployments(context)
    for deployment in targets:
        # Seeded so that nothing in synthesis ever falls back to a lookup (or a dummy answer).
        context[availability_zone_context_key(deployment)] = list(deployment.availability_zones)
    app = App(context=context, outdir=outdir)
    for deployment in targets:
        add_deployment(app, deployment)
    return app


def add_deployment(app: App, deployment: Deployment) -> ServicesStack:
    env = Environment(account=deployment.account, region=deployment.region)
    prefix = f"Tradesim-{deployment.name}"
    network = NetworkStack(app, f"{prefix}-Network", deployment=deployment, env=env)
    data = DataStack(app, f"{prefix}-Data", deployment=deployment, network=network, env=env)
    delivery = DeliveryStack(app, f"{prefix}-Delivery", deployment=deployment, env=env)
    services = ServicesStack(
        app, f"{prefix}-Services", deployment=deployment, network=network, data=data, delivery=delivery, env=env
    )
    for stack in (network, data, delivery, services):
        Tags.of(stack).add("project", "tradesim")
        Tags.of(stack).add("deployment", deployment.name)
    return services
