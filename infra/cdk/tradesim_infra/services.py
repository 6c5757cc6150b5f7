"""The running system: ECS cluster, the api behind the edge, workers on Spot, the streamer, the nightly sync."""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_autoscaling as autoscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from constructs import Construct

from .data import DataStack
from .delivery import DeliveryStack
from .edge import Edge
from .network import APP, NetworkStack
from .processes import PROCESSES, add_process_container
from .settings import CONTAINER_PORT, WEBSOCKET_METRIC, Deployment
from .suppressions import skip_checkov

CPU_TARGET_PERCENT = 60
WEBSOCKETS_PER_TASK = 1000
WORKER_INSTANCE_TYPES = ("c7i.large", "c6i.large", "c6a.large", "c5.large", "m6i.large")
# 00:05 UTC every day (EventBridge cron is always UTC): yesterday's candles are complete by then.
SYNC_SCHEDULE = events.Schedule.cron(minute="5", hour="0")


class ServicesStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        deployment: Deployment,
        network: NetworkStack,
        data: DataStack,
        delivery: DeliveryStack,
        **kwargs,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.deployment = deployment
        self.data = data
        self.image = ecs.ContainerImage.from_ecr_repository(delivery.repository, deployment.image_tag)
        self.app_subnets = ec2.SubnetSelection(subnet_group_name=APP)
        # The network stack owns the whole security-group chain; references here are immutable so
        # that CDK adds no rules of its own when it wires the ALB to the api.
        self.app_sg = ec2.SecurityGroup.from_security_group_id(
            self, "AppSg", network.app_sg.security_group_id, mutable=False
        )
        alb_sg = ec2.SecurityGroup.from_security_group_id(
            self, "AlbSg", network.alb_sg.security_group_id, mutable=False
        )

        self.cluster = ecs.Cluster(
            self,
            "Cluster",
            cluster_name=deployment.cluster_name,
            vpc=network.vpc,
            container_insights_v2=ecs.ContainerInsights.ENABLED,
        )
        self.edge = Edge(self, "Edge", deployment=deployment, vpc=network.vpc, security_group=alb_sg, data=data)

        self.api = self._api()
        self.worker_capacity = self._worker_capacity(network.vpc)
        self.worker = self._worker()
        self.streamer = self._streamer()
        self.sync_rule = self._nightly_sync()
        self.migration = self._migration(delivery)

    def _fargate_task(
        self, name: str, cpu: int, memory: int, image: ecs.ContainerImage | None = None
    ) -> ecs.FargateTaskDefinition:
        task = ecs.FargateTaskDefinition(
            self,
            f"{name.capitalize()}Task",
            family=f"tradesim-{self.deployment.name}-{name}",
            cpu=cpu,
            memory_limit_mib=memory,
            runtime_platform=ecs.RuntimePlatform(
                cpu_architecture=ecs.CpuArchitecture.X86_64, operating_system_family=ecs.OperatingSystemFamily.LINUX
            ),
        )
        add_process_container(
            self, task, PROCESSES[name], deployment=self.deployment, data=self.data, image=image or self.image
        )
        return task

    def _api(self) -> ecs.FargateService:
        service = ecs.FargateService(
            self,
            "Api",
            service_name="api",
            cluster=self.cluster,
            task_definition=self._fargate_task("api", cpu=512, memory=1024),
            desired_count=self.deployment.api_tasks.min,
            security_groups=[self.app_sg],
            vpc_subnets=self.app_subnets,
            assign_public_ip=False,
            circuit_breaker=ecs.DeploymentCircuitBreaker(rollback=True),
            health_check_grace_period=Duration.seconds(60),
            min_healthy_percent=100,
            max_healthy_percent=200,
        )
        self.edge.https.add_targets(
            "Api",
            port=CONTAINER_PORT,
            protocol=elbv2.ApplicationProtocol.HTTP,
            targets=[service],
            # A WebSocket stays on the task that accepted it; the cookie keeps a browser's
            # REST calls and reconnects on that same task for the session.
            stickiness_cookie_duration=Duration.hours(12),
            health_check=elbv2.HealthCheck(path="/readyz", healthy_http_codes="200", interval=Duration.seconds(15)),
            deregistration_delay=Duration.seconds(60),
        )

        scaling = service.auto_scale_task_count(
            min_capacity=self.deployment.api_tasks.min, max_capacity=self.deployment.api_tasks.max
        )
        scaling.scale_on_cpu_utilization("CpuScaling", target_utilization_percent=CPU_TARGET_PERCENT)
        scaling.scale_to_track_custom_metric(
            "WebSocketScaling",
            metric=cloudwatch.Metric(
                namespace=WEBSOCKET_METRIC["namespace"],
                metric_name=WEBSOCKET_METRIC["metric_name"],
                dimensions_map=WEBSOCKET_METRIC["dimensions"],
                statistic="Average",
                period=Duration.minutes(1),
            ),
            target_value=WEBSOCKETS_PER_TASK,
            # Scaling in drops sockets: the clients reconnect, but not every few minutes.
            scale_in_cooldown=Duration.minutes(15),
            scale_out_cooldown=Duration.minutes(2),
        )
        # The api publishes its socket count; PutMetricData cannot be scoped to a resource, only a namespace.
        service.task_definition.task_role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={"StringEquals": {"cloudwatch:namespace": WEBSOCKET_METRIC["namespace"]}},
            )
        )
        return service

    def _worker_capacity(self, vpc: ec2.IVpc) -> ecs.AsgCapacityProvider:
        host_sg = ec2.SecurityGroup(
            self, "WorkerHostSg", vpc=vpc, description="Worker EC2 hosts: no inbound; tasks use their own ENIs"
        )
        host_role = iam.Role(self, "WorkerHostRole", assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"))
        user_data = ec2.UserData.for_linux()
        # Tasks use their own ENI and task role; keep them away from the host's credentials.
        user_data.add_commands("echo ECS_AWSVPC_BLOCK_IMDS=true >> /etc/ecs/ecs.config")
        launch_template = ec2.LaunchTemplate(
            self,
            "WorkerHosts",
            machine_image=ecs.EcsOptimizedImage.amazon_linux2023(),
            security_group=host_sg,
            role=host_role,
            user_data=user_data,
            require_imdsv2=True,
            http_put_response_hop_limit=1,
            block_devices=[
                ec2.BlockDevice(
                    device_name="/dev/xvda",
                    volume=ec2.BlockDeviceVolume.ebs(30, encrypted=True, volume_type=ec2.EbsDeviceVolumeType.GP3),
                )
            ],
        )
        group = autoscaling.AutoScalingGroup(
            self,
            "WorkerGroup",
            vpc=vpc,
            vpc_subnets=self.app_subnets,
            min_capacity=0,
            max_capacity=max(4, self.deployment.worker_tasks * 2),
            capacity_rebalance=True,
            mixed_instances_policy=autoscaling.MixedInstancesPolicy(
                launch_template=launch_template,
                instances_distribution=autoscaling.InstancesDistribution(
                    on_demand_base_capacity=0,
                    on_demand_percentage_above_base_capacity=0,
                    spot_allocation_strategy=autoscaling.SpotAllocationStrategy.PRICE_CAPACITY_OPTIMIZED,
                ),
                launch_template_overrides=[
                    autoscaling.LaunchTemplateOverrides(instance_type=ec2.InstanceType(name))
                    for name in WORKER_INSTANCE_TYPES
                ],
            ),
        )
        provider = ecs.AsgCapacityProvider(
            self,
            "WorkerSpot",
            capacity_provider_name=f"tradesim-{self.deployment.name}-worker-spot",
            auto_scaling_group=group,
            enable_managed_scaling=True,
            target_capacity_percent=100,
            spot_instance_draining=True,
        )
        self.cluster.add_asg_capacity_provider(provider, spot_instance_draining=True)
        skip_checkov(
            host_role.node.find_child("DefaultPolicy"),
            CKV_AWS_111="The ECS agent's policy as CDK writes it: cluster actions are scoped to the cluster; "
            "its log and token actions on * are the agent's own, tasks log through their execution roles.",
        )
        return provider

    def _worker(self) -> ecs.Ec2Service:
        task = ecs.Ec2TaskDefinition(
            self, "WorkerTask", family=f"tradesim-{self.deployment.name}-worker", network_mode=ecs.NetworkMode.AWS_VPC
        )
        add_process_container(
            self,
            task,
            PROCESSES["worker"],
            deployment=self.deployment,
            data=self.data,
            image=self.image,
            # A worker reserves one vCPU; the capacity provider adds Spot hosts from these reservations.
            cpu=1024,
            memory_limit_mib=1536,
        )
        return ecs.Ec2Service(
            self,
            "Worker",
            service_name="worker",
            cluster=self.cluster,
            task_definition=task,
            desired_count=self.deployment.worker_tasks,
            security_groups=[self.app_sg],
            vpc_subnets=self.app_subnets,
            capacity_provider_strategies=[
                ecs.CapacityProviderStrategy(capacity_provider=self.worker_capacity.capacity_provider_name, weight=1)
            ],
            placement_strategies=[ecs.PlacementStrategy.spread_across_instances()],
            circuit_breaker=ecs.DeploymentCircuitBreaker(rollback=True),
            min_healthy_percent=50,
            max_healthy_percent=200,
        )

    def _streamer(self) -> ecs.FargateService:
        return ecs.FargateService(
            self,
            "Streamer",
            service_name="streamer",
            cluster=self.cluster,
            task_definition=self._fargate_task("streamer", cpu=256, memory=512),
            # One connection per exchange; a deploy overlaps old and new briefly rather than leave a gap.
            desired_count=1,
            security_groups=[self.app_sg],
            vpc_subnets=self.app_subnets,
            assign_public_ip=False,
            circuit_breaker=ecs.DeploymentCircuitBreaker(rollback=True),
            min_healthy_percent=100,
            max_healthy_percent=200,
        )

    def _nightly_sync(self) -> events.Rule:
        task = self._fargate_task("sync", cpu=1024, memory=2048)
        return events.Rule(
            self,
            "NightlySync",
            description="tradesim history sync: yesterday's 1m candles to Parquet, then the index row",
            schedule=SYNC_SCHEDULE,
            targets=[
                targets.EcsTask(
                    cluster=self.cluster,
                    task_definition=task,
                    launch_type=ecs.LaunchType.FARGATE,
                    subnet_selection=self.app_subnets,
                    security_groups=[self.app_sg],
                    assign_public_ip=False,
                    retry_attempts=2,
                    max_event_age=Duration.hours(2),
                )
            ],
        )

    def _migration(self, delivery: DeliveryStack) -> ecs.FargateTaskDefinition:
        """The one-off schema migration (`tradesim db upgrade`) the delivery workflow runs and waits for.

        It runs the candidate image, which the services do not use: the workflow moves the services'
        tag to it only once the migration exited 0. The deploy role may run exactly this task
        definition on this cluster, pass exactly its two roles, and read the tasks it started.
        """
        candidate = ecs.ContainerImage.from_ecr_repository(delivery.repository, self.deployment.candidate_tag)
        task = self._fargate_task("migrate", cpu=256, memory=512, image=candidate)
        # The deploy role lives in the delivery stack; the grant lives here, beside what it names,
        # so that neither stack refers to the other's resources in a cycle.
        deploy_role = iam.Role.from_role_name(self, "DeployRole", self.deployment.deploy_role_name)
        policy = iam.Policy(self, "DeployRunsMigration", roles=[deploy_role])
        policy.add_statements(
            iam.PolicyStatement(
                actions=["ecs:RunTask"],
                resources=[
                    self.format_arn(
                        service="ecs", resource="task-definition", resource_name=f"{self.deployment.migration_family}:*"
                    )
                ],
                conditions={"ArnEquals": {"ecs:cluster": self.cluster.cluster_arn}},
            ),
            iam.PolicyStatement(
                actions=["ecs:DescribeTasks"],
                resources=[
                    self.format_arn(service="ecs", resource="task", resource_name=f"{self.deployment.cluster_name}/*")
                ],
            ),
            iam.PolicyStatement(
                actions=["iam:PassRole"],
                resources=[task.task_role.role_arn, task.obtain_execution_role().role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
            ),
        )
        return task
