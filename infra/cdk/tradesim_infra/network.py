"""The network: a VPC over three zones and the security-group chain ALB -> app -> database/Redis."""

from __future__ import annotations

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from constructs import Construct

from .settings import CONTAINER_PORT, Deployment
from .suppressions import skip_checkov

POSTGRES_PORT = 5432
REDIS_PORT = 6379

# Subnet tiers. `public` holds only the load balancer and the NAT gateways; `app` (private, egress
# through NAT for the exchanges and AWS APIs) holds every task; `data` (isolated, no route out at all)
# holds PostgreSQL and Redis.
PUBLIC, APP, DATA = "public", "app", "data"


class NetworkStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, deployment: Deployment, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)

        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr("10.40.0.0/16"),
            availability_zones=list(deployment.availability_zones),
            nat_gateways=deployment.nat_gateways,
            subnet_configuration=[
                ec2.SubnetConfiguration(name=PUBLIC, subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24),
                ec2.SubnetConfiguration(name=APP, subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=20),
                ec2.SubnetConfiguration(name=DATA, subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24),
            ],
            # True would deploy a Lambda-backed custom resource only to empty the default group, which
            # nothing here uses: every resource names its own group.
            restrict_default_security_group=False,
        )
        for subnet in self.vpc.public_subnets:
            # Only the ALB and the NAT gateways live here, and both get their addresses explicitly.
            subnet.node.default_child.map_public_ip_on_launch = False  # type: ignore[union-attr]

        flow_logs = logs.LogGroup(
            self, "FlowLogs", retention=logs.RetentionDays.ONE_YEAR, removal_policy=RemovalPolicy.RETAIN
        )
        skip_checkov(flow_logs, CKV_AWS_158="Flow logs hold no application data; AWS-managed encryption at rest.")
        self.vpc.add_flow_log("FlowLog", destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_logs))

        self.alb_sg = ec2.SecurityGroup(
            self,
            "AlbSg",
            vpc=self.vpc,
            description="ALB: HTTPS from anywhere, HTTP only to redirect",
            allow_all_outbound=False,
        )
        self.app_sg = ec2.SecurityGroup(
            self, "AppSg", vpc=self.vpc, description="Tasks: only from the ALB; out to the internet via NAT"
        )
        self.db_sg = ec2.SecurityGroup(
            self, "DbSg", vpc=self.vpc, description="PostgreSQL: only from the app", allow_all_outbound=False
        )
        self.redis_sg = ec2.SecurityGroup(
            self, "RedisSg", vpc=self.vpc, description="Redis: only from the app", allow_all_outbound=False
        )

        self.alb_sg.add_ingress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS from anywhere")
        self.alb_sg.add_ingress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(80), "HTTP, answered with a redirect to HTTPS")
        self.alb_sg.add_egress_rule(self.app_sg, ec2.Port.tcp(CONTAINER_PORT), "to the api tasks")
        self.app_sg.add_ingress_rule(self.alb_sg, ec2.Port.tcp(CONTAINER_PORT), "from the ALB only")
        self.db_sg.add_ingress_rule(self.app_sg, ec2.Port.tcp(POSTGRES_PORT), "from the app only")
        self.redis_sg.add_ingress_rule(self.app_sg, ec2.Port.tcp(REDIS_PORT), "from the app only")

        skip_checkov(
            self.alb_sg,
            CKV_AWS_260="Port 80 is open to the world on purpose: its listener only redirects to HTTPS.",
        )
