"""Checkov skips scoped to one resource, written into its template metadata.

Every id used here is listed with its reason in infra/cdk/README.md (a test keeps the two in step).
"""

from __future__ import annotations

from aws_cdk import CfnResource
from constructs import IConstruct


def skip_checkov(construct: IConstruct, **reasons: str) -> None:
    """Skip checkov checks (CKV_AWS_1="why") on the CloudFormation resource behind `construct`."""
    resource = construct if isinstance(construct, CfnResource) else construct.node.default_child
    if not isinstance(resource, CfnResource):
        raise TypeError(f"{construct.node.path} has no CloudFormation resource to annotate")
    current = resource.get_metadata("checkov") or {"skip": []}
    current["skip"].extend({"id": check, "comment": reason} for check, reason in reasons.items())
    resource.add_metadata("checkov", current)
