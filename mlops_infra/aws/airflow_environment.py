"""An Amazon MWAA (Managed Workflows for Apache Airflow) environment whose DAG starts the training pipeline.

``training.orchestrator: airflow`` on AWS: the environment's web server is reachable from the VPC
only (``PRIVATE_ONLY``), its metadata, queue and logs are encrypted with the platform key, it runs in
the spec's two private subnets behind a security group that admits only itself, and every Airflow
log type goes to a KMS-encrypted log group with a retention. The DAG (rendered by
:mod:`mlops_infra.airflow_dag`) lives in a secure bucket (KMS, versioned as MWAA requires, public
access blocked). The execution role may read that bucket, use the key for MWAA's own queue and
bucket, write the environment's logs and metrics, and start exactly one SageMaker pipeline.
"""

from __future__ import annotations

from typing import Any, Literal

import pulumi
import pulumi_aws as aws
from pydantic import Field

from mlops_infra.airflow_dag import sagemaker_pipeline_dag
from mlops_infra.aws.account import account_id, arn, regional_host
from mlops_infra.aws.arns import KmsKeyArn
from mlops_infra.aws.global_names import global_name
from mlops_infra.aws.iam import assume_role_policy, policy_document, statement
from mlops_infra.aws.secure_bucket import SecureBucket, SecureBucketArgs
from mlops_infra.component import PlatformComponent
from mlops_infra.conventions import naming
from mlops_infra.outputs import concat
from mlops_infra.policy.facts.managed_airflow import MWAA_LOG_TYPES, MWAA_PRIVATE_ACCESS
from mlops_infra.spec.aws import SubnetId
from mlops_infra.spec.base import Spec as ComponentArgs
from mlops_infra.spec.base import StrInput
from mlops_infra.spec.schedule import Schedule
from mlops_infra.spec.types import RetentionDays

# MWAA assumes the execution role as both principals (Amazon MWAA User Guide, "Amazon MWAA execution role").
MWAA_PRINCIPALS = ["airflow.amazonaws.com", "airflow-env.amazonaws.com"]
ENVIRONMENT_CLASSES = ("mw1.micro", "mw1.small", "mw1.medium", "mw1.large", "mw1.xlarge", "mw1.2xlarge")
DAG_FOLDER = "dags"
HTTPS = 443
# MWAA's Celery queue lives in an AWS-owned account: the queue ARN cannot name this account.
CELERY_QUEUE_ACTIONS = [
    "sqs:ChangeMessageVisibility",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
    "sqs:GetQueueUrl",
    "sqs:ReceiveMessage",
    "sqs:SendMessage",
]
DAG_BUCKET_ACTIONS = [
    "s3:GetBucketLocation",
    "s3:GetBucketPublicAccessBlock",
    "s3:GetBucketVersioning",
    "s3:ListBucket",
]
DAG_OBJECT_ACTIONS = ["s3:GetObject", "s3:GetObjectVersion"]
LOG_ACTIONS = [
    "logs:CreateLogStream",
    "logs:GetLogEvents",
    "logs:GetLogGroupFields",
    "logs:GetLogRecord",
    "logs:GetQueryResults",
    "logs:PutLogEvents",
]
# The key is used only through MWAA's queue and bucket (kms:ViaService), never directly.
KEY_ACTIONS = ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"]


class AirflowEnvironmentArgs(ComponentArgs):
    """Settings of the MWAA environment and the pipeline its DAG starts."""

    kms_key_arn: KmsKeyArn = Field(description="Customer-managed key of the environment, its logs and DAG bucket.")
    vpc_id: str = Field(pattern=r"^vpc-[0-9a-f]{8,17}$", description="VPC of the two private subnets.")
    subnet_ids: list[SubnetId] = Field(
        min_length=2, max_length=2, description="Two private subnets in different Availability Zones."
    )
    pipeline_name: StrInput = Field(description="Physical name of the SageMaker pipeline the DAG starts.")
    pipeline_arn: StrInput = Field(description="ARN of that pipeline: the only one the role may start.")
    schedule: Schedule | None = Field(None, description="When the DAG starts the pipeline; None: on demand.")
    pipeline_parameters: dict[str, str] = Field(default_factory=dict, description="Parameters of scheduled runs.")
    environment_class: Literal[ENVIRONMENT_CLASSES] = Field(  # type: ignore[valid-type]
        "mw1.small", description="MWAA environment class (scheduler and worker size; priced per hour)."
    )
    max_workers: int = Field(2, ge=1, le=25, description="Most Celery workers MWAA scales to.")
    airflow_version: str = Field("2.10.3", pattern=r"^[0-9]+\.[0-9]+\.[0-9]+$", description="Apache Airflow version.")
    log_level: Literal["CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG"] = "INFO"
    log_retention_days: RetentionDays = Field(90, description="Days the Airflow logs are kept.")
    weekly_maintenance_window_start: str = Field(
        "SUN:03:00",
        pattern=r"^(MON|TUE|WED|THU|FRI|SAT|SUN):([01][0-9]|2[0-3]):(00|30)$",
        description="Weekly maintenance start, UTC (DAY:HH:MM, on the half hour).",
    )


class AirflowEnvironment(PlatformComponent[AirflowEnvironmentArgs]):
    """A private, KMS-encrypted MWAA environment and the DAG that starts one SageMaker pipeline."""

    TYPE_TOKEN = "mlops-infra:aws:AirflowEnvironment"
    ARGS = AirflowEnvironmentArgs

    def __init__(
        self,
        name: str,
        args: AirflowEnvironmentArgs | dict[str, Any] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(name, args, opts)
        a = self.args
        invoke = pulumi.InvokeOutputOptions(parent=self)
        account = account_id(invoke)
        self.environment_name = self.platform.name(name, naming.MWAA_ENVIRONMENT)
        self.dag_bucket = SecureBucket(
            self.child_name("dags"),
            SecureBucketArgs(purpose="airflow-dags", kms_key_arn=a.kms_key_arn, versioning=True),
            opts=self.child_opts(),
        )
        self.log_groups = [
            aws.cloudwatch.LogGroup(
                self.child_name(f"logs-{kind.lower()}"),
                # MWAA writes to airflow-<environment>-<kind>; created here so the retention and key are ours.
                name=f"airflow-{self.environment_name}-{kind}",
                retention_in_days=a.log_retention_days,
                kms_key_id=a.kms_key_arn,
                opts=self.child_opts(),
            )
            for kind in MWAA_LOG_TYPES
        ]
        self.security_group = aws.ec2.SecurityGroup(
            self.child_name("sg"),
            vpc_id=a.vpc_id,
            description=f"MWAA {self.environment_name}: its own components, HTTPS out to AWS services",
            ingress=[
                aws.ec2.SecurityGroupIngressArgs(
                    protocol="-1", from_port=0, to_port=0, self=True, description="MWAA components"
                )
            ],
            egress=[
                aws.ec2.SecurityGroupEgressArgs(
                    protocol="-1", from_port=0, to_port=0, self=True, description="MWAA components"
                ),
                aws.ec2.SecurityGroupEgressArgs(
                    protocol="tcp", from_port=HTTPS, to_port=HTTPS, cidr_blocks=["0.0.0.0/0"],
                    description="AWS APIs through the subnets' NAT gateway or VPC endpoints",
                ),
            ],
            opts=self.child_opts(),
        )  # fmt: skip
        self.role = aws.iam.Role(
            self.child_name("role"),
            name=global_name(self, f"{name}-airflow", naming.IAM_ROLE),
            description=f"MWAA {self.environment_name}: DAG bucket, key, logs, and starting one pipeline",
            assume_role_policy=assume_role_policy(MWAA_PRINCIPALS, account),
            opts=self.child_opts(),
        )
        self.role_policy = aws.iam.RolePolicy(
            self.child_name("role-policy"),
            role=self.role.id,
            policy=policy_document(self.statements(invoke)),
            opts=self.child_opts(),
        )
        self.dag_text: pulumi.Output[str] = pulumi.Output.from_input(a.pipeline_name).apply(
            lambda pipeline: sagemaker_pipeline_dag(
                dag_id=self.environment_name,
                pipeline_name=str(pipeline),
                schedule=a.schedule,
                parameters=a.pipeline_parameters,
            )
        )
        self.dag = aws.s3.BucketObjectv2(
            self.child_name("dag"),
            bucket=self.dag_bucket.bucket_name,
            key=f"{DAG_FOLDER}/{self.environment_name.replace('-', '_')}.py",
            content=self.dag_text,
            content_type="text/x-python",
            server_side_encryption="aws:kms",
            kms_key_id=a.kms_key_arn,
            opts=self.child_opts(depends_on=[self.dag_bucket]),
        )
        self.environment = aws.mwaa.Environment(
            self.child_name("environment"),
            name=self.environment_name,
            airflow_version=a.airflow_version,
            environment_class=a.environment_class,
            max_workers=a.max_workers,
            execution_role_arn=self.role.arn,
            kms_key=a.kms_key_arn,
            source_bucket_arn=self.dag_bucket.arn,
            dag_s3_path=f"{DAG_FOLDER}/",
            webserver_access_mode=MWAA_PRIVATE_ACCESS,
            network_configuration=aws.mwaa.EnvironmentNetworkConfigurationArgs(
                subnet_ids=list(a.subnet_ids), security_group_ids=[self.security_group.id]
            ),
            logging_configuration=self._logging(),
            airflow_configuration_options={"core.load_examples": "False"},
            weekly_maintenance_window_start=a.weekly_maintenance_window_start,
            # MWAA checks the role, the log groups and the bucket when it creates the environment.
            opts=self.child_opts(depends_on=[self.role_policy, self.dag_bucket, *self.log_groups]),
        )
        self.environment_arn: pulumi.Output[str] = self.environment.arn
        self.register_outputs(
            {
                "environmentArn": self.environment_arn,
                "dagBucket": self.dag_bucket.bucket_name,
                "dagKey": self.dag.key,
                "executionRoleArn": self.role.arn,
            }
        )

    def _logging(self) -> aws.mwaa.EnvironmentLoggingConfigurationArgs:
        """Every Airflow log type on, at the configured level."""

        def enabled() -> dict[str, Any]:
            return {"enabled": True, "log_level": self.args.log_level}

        return aws.mwaa.EnvironmentLoggingConfigurationArgs(
            dag_processing_logs=aws.mwaa.EnvironmentLoggingConfigurationDagProcessingLogsArgs(**enabled()),
            scheduler_logs=aws.mwaa.EnvironmentLoggingConfigurationSchedulerLogsArgs(**enabled()),
            task_logs=aws.mwaa.EnvironmentLoggingConfigurationTaskLogsArgs(**enabled()),
            webserver_logs=aws.mwaa.EnvironmentLoggingConfigurationWebserverLogsArgs(**enabled()),
            worker_logs=aws.mwaa.EnvironmentLoggingConfigurationWorkerLogsArgs(**enabled()),
        )

    def statements(self, invoke: pulumi.InvokeOutputOptions) -> list[dict[str, Any]]:
        """The execution role's statements (Amazon MWAA User Guide, execution role with a customer-managed key)."""
        a = self.args
        bucket = self.dag_bucket.arn
        logs = arn("logs", f"log-group:airflow-{self.environment_name}-*", invoke)
        environment = arn("airflow", f"environment/{self.environment_name}", invoke)
        via = [regional_host("sqs", invoke), regional_host("s3", invoke)]  # the queues and the DAG bucket
        return [
            statement(["airflow:PublishMetrics"], [environment], sid="PublishMetrics"),
            statement(DAG_BUCKET_ACTIONS, [bucket], sid="DagBucket"),
            statement(DAG_OBJECT_ACTIONS, [concat(bucket, "/*")], sid="DagObjects"),
            statement(["s3:GetAccountPublicAccessBlock"], ["*"], sid="AccountPublicAccessBlock"),
            statement(LOG_ACTIONS, [logs, concat(logs, ":*")], sid="EnvironmentLogs"),
            statement(["logs:DescribeLogGroups"], ["*"], sid="DescribeLogGroups"),
            statement(
                ["cloudwatch:PutMetricData"],
                ["*"],
                sid="Metrics",
                conditions={"StringEquals": {"cloudwatch:namespace": "AmazonMWAA"}},
            ),
            statement(
                CELERY_QUEUE_ACTIONS,
                [arn("sqs", "airflow-celery-*", invoke, account="*")],
                sid="CeleryQueue",
            ),
            statement(
                KEY_ACTIONS, [a.kms_key_arn], sid="PlatformKey", conditions={"StringLike": {"kms:ViaService": via}}
            ),
            statement(["sagemaker:StartPipelineExecution"], [a.pipeline_arn], sid="StartTrainingPipeline"),
        ]
