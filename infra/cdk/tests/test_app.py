"""The app synthesises with every environment fact pinned: no lookups, no guessed zones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aws_cdk.cx_api import CloudAssembly

from tradesim_infra.settings import Deployment


def test_synthesis_asked_aws_nothing(assembly: CloudAssembly):
    manifest = json.loads((Path(assembly.directory) / "manifest.json").read_text())
    assert "artifacts" in manifest
    assert not manifest.get("missing"), "some construct asked for a context lookup"


def test_four_stacks_per_deployment_each_pinned_to_its_account_and_region(
    assembly: CloudAssembly, all_deployments: dict[str, Deployment]
):
    stacks = {s.stack_name: s for s in assembly.stacks}
    assert len(stacks) == 4 * len(all_deployments)
    for d in all_deployments.values():
        for kind in ("Network", "Data", "Delivery", "Services"):
            env = stacks[f"Tradesim-{d.name}-{kind}"].environment
            assert (env.account, env.region) == (d.account, d.region)


def test_a_deployment_must_pin_three_zones_of_its_region():
    raw = {
        "account": "1",
        "region": "eu-west-1",
        "availabilityZones": ["eu-west-1a", "eu-west-1b"],
        "certificateArn": "arn",
        "githubRepository": "o/r",
        "githubBranch": "main",
        "multiAz": True,
        "natGateways": 3,
        "apiTasks": {"min": 1, "max": 2},
        "workerTasks": 1,
        "symbols": "BTCUSDT",
    }
    with pytest.raises(ValueError, match="exactly three"):
        Deployment.from_context("x", raw)
    with pytest.raises(ValueError, match="not all in"):
        Deployment.from_context("x", raw | {"availabilityZones": ["eu-west-1a", "eu-west-1b", "us-east-1a"]})
