"""Delivery: the image registry and the role GitHub Actions assumes through OIDC to push and deploy."""

from __future__ import annotations

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from constructs import Construct

from .settings import DEPLOYED_SERVICES, Deployment
from .suppressions import skip_checkov

GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"


class DeliveryStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, deployment: Deployment, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)

        self.repository = ecr.Repository(
            self,
            "Images",
            repository_name="tradesim",
            image_scan_on_push=True,
            # The workflow moves the deployment's tag to each new image, then forces a new deployment.
            image_tag_mutability=ecr.TagMutability.MUTABLE,
            lifecycle_rules=[ecr.LifecycleRule(description="keep the last 50 images", max_image_count=50)],
            removal_policy=RemovalPolicy.RETAIN,
        )
        skip_checkov(
            self.repository,
            CKV_AWS_51="Deploys move one tag per deployment and force a new ECS deployment; immutable tags forbid it.",
            CKV_AWS_136="AES-256 at rest; a customer key would gate every image pull on a cross-stack key grant.",
        )

        provider = iam.CfnOIDCProvider(
            self, "GithubOidc", url=f"https://{GITHUB_OIDC_HOST}", client_id_list=["sts.amazonaws.com"]
        )
        self.deploy_role = iam.Role(
            self,
            "GithubDeployRole",
            role_name=deployment.deploy_role_name,
            description="Assumed by the GitHub Actions workflow on the main branch: push the image, roll the services",
            assumed_by=iam.WebIdentityPrincipal(
                provider.attr_arn,
                conditions={
                    "StringEquals": {
                        f"{GITHUB_OIDC_HOST}:aud": "sts.amazonaws.com",
                        f"{GITHUB_OIDC_HOST}:sub": (
                            f"repo:{deployment.github_repository}:ref:refs/heads/{deployment.github_branch}"
                        ),
                    }
                },
            ),
        )
        self.repository.grant_pull_push(self.deploy_role)
        self.deploy_role.add_to_policy(
            iam.PolicyStatement(
                actions=["ecs:UpdateService", "ecs:DescribeServices"],
                resources=[
                    self.format_arn(
                        service="ecs", resource="service", resource_name=f"{deployment.cluster_name}/{name}"
                    )
                    for name in DEPLOYED_SERVICES
                ],
            )
        )
