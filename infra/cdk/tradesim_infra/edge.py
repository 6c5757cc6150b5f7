"""The public edge: the ALB (HTTPS, HTTP redirected) and the WAF web ACL in front of it."""

from __future__ import annotations

from aws_cdk import ArnFormat, Duration, RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_logs as logs
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from .data import DataStack
from .network import PUBLIC
from .settings import Deployment

# TLS 1.2 and 1.3 with forward-secret AEAD ciphers only (ELBSecurityPolicy-TLS13-1-2-Res-2021-06).
TLS_POLICY = elbv2.SslPolicy.TLS13_RES

# Requests per client IP in any 5-minute window before WAF blocks it.
RATE_LIMIT_PER_5_MIN = 2000

MANAGED_RULE_GROUPS = (
    "AWSManagedRulesAmazonIpReputationList",
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesSQLiRuleSet",
)

# The common rule set blocks bodies over 8 KB; journal screenshots are uploaded as request bodies.
COUNT_ONLY = {"AWSManagedRulesCommonRuleSet": ("SizeRestrictions_BODY",)}


class Edge(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        deployment: Deployment,
        vpc: ec2.IVpc,
        security_group: ec2.ISecurityGroup,
        data: DataStack,
    ) -> None:
        super().__init__(scope, construct_id)
        self.alb = elbv2.ApplicationLoadBalancer(
            self,
            "Alb",
            vpc=vpc,
            internet_facing=True,
            vpc_subnets=ec2.SubnetSelection(subnet_group_name=PUBLIC),
            security_group=security_group,
            drop_invalid_header_fields=True,
            deletion_protection=deployment.is_production,
            # An idle WebSocket is cut after this long; clients ping far more often than that.
            idle_timeout=Duration.seconds(300),
        )
        self.alb.log_access_logs(data.log_bucket, prefix="alb")

        self.https = self.alb.add_listener(
            "Https",
            port=443,
            protocol=elbv2.ApplicationProtocol.HTTPS,
            certificates=[elbv2.ListenerCertificate.from_arn(deployment.certificate_arn)],
            ssl_policy=TLS_POLICY,
            open=False,
        )
        self.alb.add_listener(
            "Http",
            port=80,
            protocol=elbv2.ApplicationProtocol.HTTP,
            open=False,
            default_action=elbv2.ListenerAction.redirect(protocol="HTTPS", port="443", permanent=True),
        )

        self.web_acl = self._web_acl(deployment)
        wafv2.CfnWebACLAssociation(
            self, "WebAclOnAlb", resource_arn=self.alb.load_balancer_arn, web_acl_arn=self.web_acl.attr_arn
        )
        self._waf_logs(deployment, data)

    def _web_acl(self, deployment: Deployment) -> wafv2.CfnWebACL:
        rules = [
            wafv2.CfnWebACL.RuleProperty(
                name=group,
                priority=priority,
                override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
                statement=wafv2.CfnWebACL.StatementProperty(
                    managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                        vendor_name="AWS",
                        name=group,
                        rule_action_overrides=[
                            wafv2.CfnWebACL.RuleActionOverrideProperty(
                                name=rule, action_to_use=wafv2.CfnWebACL.RuleActionProperty(count={})
                            )
                            for rule in COUNT_ONLY.get(group, ())
                        ]
                        or None,
                    )
                ),
                visibility_config=_visibility(group),
            )
            for priority, group in enumerate(MANAGED_RULE_GROUPS)
        ]
        rules.append(
            wafv2.CfnWebACL.RuleProperty(
                name="RateLimitPerIp",
                priority=len(rules),
                action=wafv2.CfnWebACL.RuleActionProperty(block={}),
                statement=wafv2.CfnWebACL.StatementProperty(
                    rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                        aggregate_key_type="IP", limit=RATE_LIMIT_PER_5_MIN, evaluation_window_sec=300
                    )
                ),
                visibility_config=_visibility("RateLimitPerIp"),
            )
        )
        return wafv2.CfnWebACL(
            self,
            "WebAcl",
            name=f"tradesim-{deployment.name}",
            scope="REGIONAL",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            rules=rules,
            visibility_config=_visibility(f"tradesim-{deployment.name}"),
        )

    def _waf_logs(self, deployment: Deployment, data: DataStack) -> None:
        # WAF only delivers to log groups whose name starts with aws-waf-logs-.
        name = f"aws-waf-logs-tradesim-{deployment.name}"
        group = logs.LogGroup(
            self,
            "WafLogs",
            log_group_name=name,
            retention=logs.RetentionDays.ONE_YEAR,
            encryption_key=data.key,
            removal_policy=RemovalPolicy.RETAIN,
        )
        config = wafv2.CfnLoggingConfiguration(
            self,
            "WafLogging",
            resource_arn=self.web_acl.attr_arn,
            # WAF wants the bare log-group ARN, without the ':*' that LogGroup.log_group_arn carries.
            log_destination_configs=[
                Stack.of(self).format_arn(
                    service="logs",
                    resource="log-group",
                    resource_name=name,
                    arn_format=ArnFormat.COLON_RESOURCE_NAME,
                )
            ],
        )
        config.node.add_dependency(group)


def _visibility(metric: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=metric, sampled_requests_enabled=True
    )
