"""Every checkov and cfn-lint check skipped anywhere is listed, with its reason, in README.md."""

from __future__ import annotations

from pathlib import Path

import yaml
from aws_cdk.cx_api import CloudAssembly

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def _checkov_skips(assembly: CloudAssembly) -> dict[str, set[str]]:
    skips: dict[str, set[str]] = {}
    for stack in assembly.stacks:
        for resource in stack.template["Resources"].values():
            for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", []):
                assert skip["comment"].strip(), f"{skip['id']} skipped without a reason"
                skips.setdefault(skip["id"], set()).add(resource["Type"])
    return skips


def test_every_checkov_skip_is_documented(assembly: CloudAssembly):
    skips = _checkov_skips(assembly)
    assert skips, "expected the documented skips to be present"
    for check in skips:
        assert f"`{check}`" in README, f"{check} is skipped but not listed in README.md"


def test_every_cfn_lint_ignore_is_documented():
    config = yaml.safe_load((ROOT / ".cfnlintrc.yaml").read_text())
    for check in config["ignore_checks"]:
        assert f"`{check}`" in README, f"{check} is ignored but not listed in README.md"
