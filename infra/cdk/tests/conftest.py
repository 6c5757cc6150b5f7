"""Synthesises the whole app once per test session, in-process, and hands out its templates."""

from __future__ import annotations

import os

# Must be set before jsii starts its node process; node 20 works but is past its end of life.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

import pytest
from aws_cdk.assertions import Template
from aws_cdk.cx_api import CloudAssembly

from tradesim_infra.app import build_app
from tradesim_infra.settings import Deployment, cdk_json_context, deployments

from .templates import Stacks


@pytest.fixture(scope="session")
def context() -> dict:
    return cdk_json_context()


@pytest.fixture(scope="session")
def assembly(context: dict, tmp_path_factory: pytest.TempPathFactory) -> CloudAssembly:
    return build_app(context, outdir=str(tmp_path_factory.mktemp("cdk.out"))).synth()


@pytest.fixture(scope="session")
def all_deployments(context: dict) -> dict[str, Deployment]:
    return {d.name: d for d in deployments(context)}


def _stacks(assembly: CloudAssembly, deployment: Deployment) -> Stacks:
    def template(kind: str) -> Template:
        return Template.from_json(assembly.get_stack_by_name(f"Tradesim-{deployment.name}-{kind}").template)

    return Stacks(deployment, template("Network"), template("Data"), template("Delivery"), template("Services"))


@pytest.fixture(scope="session")
def production(assembly: CloudAssembly, all_deployments: dict[str, Deployment]) -> Stacks:
    return _stacks(assembly, all_deployments["production"])


@pytest.fixture(scope="session")
def staging(assembly: CloudAssembly, all_deployments: dict[str, Deployment]) -> Stacks:
    return _stacks(assembly, all_deployments["staging"])


@pytest.fixture(scope="session", params=["staging", "production"])
def stacks(request: pytest.FixtureRequest) -> Stacks:
    """Runs a test once for every deployment."""
    return request.getfixturevalue(request.param)
