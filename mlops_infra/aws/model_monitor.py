"""Drift monitoring for a SageMaker endpoint: Model Monitor data-quality jobs plus drift alarms.

The alarms are what closes the loop: pass ``drift_alarm_arns`` to a TrainingPipeline's
``retrain_on_alarm_arns`` and a drifting feature starts retraining. They are ``warning`` alerts:
``alarm_actions`` (the warning topic) hears both when a feature drifts and when it is back (OK).
"""

from __future__ import annotations

import re
from typing import Annotated, Any

import pulumi
import pulumi_aws as aws
from pydantic import AfterValidator, Field, field_validator, model_validator

from mlops_infra.aws.account import account_id, arn
from mlops_infra.aws.arns import KmsKeyArn, SnsTopicArn
from mlops_infra.aws.global_names import global_name
from mlops_infra.aws.iam import assume_role_policy, kms_use_actions, policy_document, statement
from mlops_infra.aws.model_monitor_images import analyzer_image, check_analyzer_region
from mlops_infra.aws.platform_key import key_arn_or_shared
from mlops_infra.aws.s3 import split_s3_uri
from mlops_infra.aws.schedule import model_monitor_cron
from mlops_infra.component import PlatformComponent
from mlops_infra.config.base import validate_args
from mlops_infra.conventions import naming
from mlops_infra.outputs import combined
from mlops_infra.policy.facts.instance_types import has_local_storage
from mlops_infra.spec.base import Spec as ComponentArgs
from mlops_infra.spec.base import StrInput
from mlops_infra.spec.compute import check_aws_instance_type
from mlops_infra.spec.schedule import Schedule
from mlops_infra.spec.types import S3Uri

DATA_METRICS_NAMESPACE = "aws/sagemaker/Endpoints/data-metrics"
_ENDPOINT_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
_FEATURE = re.compile(r"^[A-Za-z0-9_.-]{1,200}$")


def _s3_arn(resource: pulumi.Input[str], invoke: pulumi.InvokeOutputOptions) -> pulumi.Output[str]:
    """``arn:PARTITION:s3:::RESOURCE`` (a bucket, or ``bucket/key``) in the provider's partition."""
    return arn("s3", resource, invoke, region="", account="")


def _object_arn(uri: StrInput, invoke: pulumi.InvokeOutputOptions) -> pulumi.Output[str]:
    """``arn:PARTITION:s3:::BUCKET/KEY`` of an s3:// URI, known now or at deploy time."""
    if isinstance(uri, str):
        return _s3_arn("{}/{}".format(*split_s3_uri(uri)), invoke)
    return _s3_arn(combined(lambda known: "{}/{}".format(*split_s3_uri(known)), uri), invoke)


def _monitoring_instance_type(value: str) -> str:
    return check_aws_instance_type(value, "monitoring")


# MonitoringClusterConfig.InstanceType: botocore's ProcessingInstanceType enumeration.
AwsInstanceType = Annotated[str, AfterValidator(_monitoring_instance_type)]


class ModelMonitorArgs(ComponentArgs):
    """Settings of an endpoint's drift monitor."""

    endpoint_name: StrInput = Field(description="The monitored endpoint (e.g. Endpoint(...).endpoint_name).")
    capture_s3_uri: S3Uri = Field(description="Where the endpoint captures traffic (Endpoint(...).capture_s3_uri).")
    baseline_statistics_s3_uri: S3Uri | None = Field(None, description="statistics.json of a baselining job.")
    baseline_constraints_s3_uri: S3Uri | None = Field(None, description="constraints.json of a baselining job.")
    schedule: Schedule = Field(
        default_factory=lambda: Schedule(cron="0 * * * *"),
        description="When the job runs: hourly ('0 * * * *') or daily at a UTC hour ('0 3 * * *').",
    )
    instance_type: AwsInstanceType = Field("ml.m5.large", description="Instance of the monitoring job.")
    volume_size_gb: int = Field(20, ge=1, le=16384)
    max_runtime_seconds: int = Field(1800, ge=60, le=3600, description="Must end before the next hourly run.")
    drift_features: list[str] = Field(
        default_factory=list, max_length=50, description="Features whose baseline drift raises an alarm."
    )
    drift_threshold: float = Field(0.1, gt=0, le=1, description="Baseline distance (0-1) above which a feature drifts.")
    alarm_actions: list[SnsTopicArn] = Field(
        default_factory=list,
        max_length=5,
        description="SNS topic ARNs of warning alerts, told when a feature drifts and when it is back (OK).",
    )
    analyzer_image_uri: str | None = Field(None, description="Override the region's Model Monitor analyzer image.")
    kms_key_arn: KmsKeyArn | None = None

    @field_validator("endpoint_name")
    @classmethod
    def _endpoint_name(cls, value: StrInput) -> StrInput:
        if isinstance(value, str) and not _ENDPOINT_NAME.fullmatch(value):
            raise ValueError(
                f"{value!r} is not a SageMaker endpoint name (1-63 letters, digits and '-', "
                "starting and ending with a letter or digit)"
            )
        return value

    @field_validator("schedule")
    @classmethod
    def _hourly_or_daily(cls, value: Schedule) -> Schedule:
        model_monitor_cron(value)
        return value

    @field_validator("drift_features")
    @classmethod
    def _feature_names(cls, features: list[str]) -> list[str]:
        bad = [f for f in features if not _FEATURE.match(f)]
        if bad:
            raise ValueError(f"feature names must match {_FEATURE.pattern}: {bad}")
        if len(set(features)) != len(features):
            raise ValueError("feature names must be unique")
        return features

    @model_validator(mode="after")
    def _baseline_for_drift(self) -> ModelMonitorArgs:
        baseline = (self.baseline_statistics_s3_uri, self.baseline_constraints_s3_uri)
        if (baseline[0] is None) != (baseline[1] is None):
            raise ValueError("baseline_statistics_s3_uri and baseline_constraints_s3_uri go together")
        if self.drift_features and baseline[0] is None:
            raise ValueError(
                "drift_features need a baseline: set baseline_statistics_s3_uri and baseline_constraints_s3_uri"
            )
        return self


class ModelMonitor(PlatformComponent[ModelMonitorArgs]):
    """A data-quality monitoring schedule on an endpoint, and an alarm per drifting feature."""

    TYPE_TOKEN = "mlops-infra:aws:ModelMonitor"
    ARGS = ModelMonitorArgs

    def __init__(
        self, name: str, args: ModelMonitorArgs | dict[str, Any], opts: pulumi.ResourceOptions | None = None
    ) -> None:
        validated = validate_args(ModelMonitorArgs, args)
        check_analyzer_region(validated.analyzer_image_uri, opts)  # a region without an image: a config error now
        super().__init__(name, validated, opts)
        settings = self.args
        key_arn = key_arn_or_shared(settings.kms_key_arn, requester=self)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        image = analyzer_image(settings.analyzer_image_uri, invoke)
        account = account_id(invoke)
        capture = combined(split_s3_uri, settings.capture_s3_uri)
        capture_bucket_arn = _s3_arn(capture.apply(lambda c: c[0]), invoke)
        output_uri = capture.apply(lambda c: f"s3://{c[0]}/monitoring/{name}")
        baselines = [u for u in (settings.baseline_statistics_s3_uri, settings.baseline_constraints_s3_uri) if u]

        reads: list[pulumi.Input[str]] = [
            _s3_arn(capture.apply(lambda c: f"{c[0]}/{c[1]}/*" if c[1] else f"{c[0]}/*"), invoke)
        ]
        reads += [_object_arn(u, invoke) for u in baselines]
        role_name = global_name(self, f"{name}-monitor", naming.IAM_ROLE)
        self.role = aws.iam.Role(
            self.child_name("role"),
            name=role_name,
            assume_role_policy=assume_role_policy("sagemaker.amazonaws.com", account),
            opts=self.child_opts(),
        )
        aws.iam.RolePolicy(
            self.child_name("role-policy"),
            role=self.role.id,
            policy=policy_document(
                [
                    statement(["s3:GetObject"], reads, sid="ReadCaptureAndBaseline"),
                    statement(["s3:ListBucket"], [capture_bucket_arn], sid="ListCapture"),
                    statement(
                        ["s3:PutObject"],
                        [_s3_arn(capture.apply(lambda c: f"{c[0]}/monitoring/{name}/*"), invoke)],
                        sid="WriteReports",
                    ),
                    statement(kms_use_actions(), [key_arn], sid="UsePlatformKey"),
                    statement(
                        ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                        [arn("logs", "log-group:/aws/sagemaker/ProcessingJobs*", invoke)],
                        sid="WriteJobLogs",
                    ),
                    statement(
                        ["cloudwatch:PutMetricData"],
                        ["*"],
                        sid="PublishDriftMetrics",
                        conditions={"StringEquals": {"cloudwatch:namespace": DATA_METRICS_NAMESPACE}},
                    ),
                ]
            ),
            opts=self.child_opts(),
        )
        baseline_config = (
            aws.sagemaker.DataQualityJobDefinitionDataQualityBaselineConfigArgs(
                statistics_resource=aws.sagemaker.DataQualityJobDefinitionDataQualityBaselineConfigStatisticsResourceArgs(
                    s3_uri=settings.baseline_statistics_s3_uri
                ),
                constraints_resource=aws.sagemaker.DataQualityJobDefinitionDataQualityBaselineConfigConstraintsResourceArgs(
                    s3_uri=settings.baseline_constraints_s3_uri
                ),
            )
            if baselines
            else None
        )
        self.job_definition = aws.sagemaker.DataQualityJobDefinition(
            self.child_name("data-quality"),
            name=self.platform.name(f"{name}-data-quality", naming.SAGEMAKER),
            role_arn=self.role.arn,
            data_quality_app_specification=aws.sagemaker.DataQualityJobDefinitionDataQualityAppSpecificationArgs(
                image_uri=image, environment={"publish_cloudwatch_metrics": "Enabled"}
            ),
            data_quality_baseline_config=baseline_config,
            data_quality_job_input={
                "endpoint_input": {
                    "endpoint_name": settings.endpoint_name,
                    "local_path": "/opt/ml/processing/input/endpoint",
                    "s3_data_distribution_type": "FullyReplicated",
                    "s3_input_mode": "File",
                }
            },
            data_quality_job_output_config={
                "kms_key_id": key_arn,
                "monitoring_outputs": {
                    "s3_output": {
                        "s3_uri": output_uri,
                        "local_path": "/opt/ml/processing/output",
                        "s3_upload_mode": "EndOfJob",
                    }
                },
            },
            job_resources=aws.sagemaker.DataQualityJobDefinitionJobResourcesArgs(
                cluster_config=aws.sagemaker.DataQualityJobDefinitionJobResourcesClusterConfigArgs(
                    instance_count=1,
                    instance_type=settings.instance_type,
                    volume_size_in_gb=settings.volume_size_gb,
                    # Local NVMe storage is hardware-encrypted and SageMaker refuses a volume key for it.
                    volume_kms_key_id=None if has_local_storage(settings.instance_type) else key_arn,
                )
            ),
            network_config={"enable_inter_container_traffic_encryption": True, "enable_network_isolation": True},
            stopping_condition={"max_runtime_in_seconds": settings.max_runtime_seconds},
            opts=self.child_opts(),
        )
        schedule_name = self.platform.name(f"{name}-data-quality", naming.SAGEMAKER)
        self.schedule = aws.sagemaker.MonitoringSchedule(
            self.child_name("schedule"),
            name=schedule_name,
            monitoring_schedule_config={
                "monitoring_job_definition_name": self.job_definition.name,
                "monitoring_type": "DataQuality",
                "schedule_config": {"schedule_expression": model_monitor_cron(settings.schedule)},
            },
            opts=self.child_opts(),
        )
        self.drift_alarms = [
            aws.cloudwatch.MetricAlarm(
                self.child_name(f"drift-{feature}"),
                name=self.platform.name(f"{name}-drift-{feature}", naming.CLOUDWATCH_ALARM),
                alarm_description=(
                    f"Feature {feature} drifted from its training baseline (distance > {settings.drift_threshold})."
                ),
                namespace=DATA_METRICS_NAMESPACE,
                metric_name=f"feature_baseline_drift_{feature}",
                dimensions={"Endpoint": settings.endpoint_name, "MonitoringSchedule": self.schedule.name},
                statistic="Maximum",
                period=3600,
                evaluation_periods=1,
                threshold=settings.drift_threshold,
                comparison_operator="GreaterThanThreshold",
                treat_missing_data="notBreaching",
                # Drift is a warning: its topics hear when it starts and when it clears.
                actions_enabled=True,
                alarm_actions=list(settings.alarm_actions),
                ok_actions=list(settings.alarm_actions),
                opts=self.child_opts(),
            )
            for feature in settings.drift_features
        ]
        self.schedule_name: pulumi.Output[str] = self.schedule.name
        self.job_definition_name: pulumi.Output[str] = self.job_definition.name
        self.drift_alarm_arns: list[pulumi.Output[str]] = [alarm.arn for alarm in self.drift_alarms]
        self.drift_alarm_names: list[pulumi.Output[str]] = [alarm.name for alarm in self.drift_alarms]
        # Matches every drift alarm of this monitor; use it in retrain_on_alarm_name_patterns.
        self.drift_alarm_name_pattern: str = self.platform.name(f"{name}-drift-", naming.CLOUDWATCH_ALARM) + "*"
        self.role_arn: pulumi.Output[str] = self.role.arn
        self.register_outputs(
            {
                "scheduleName": self.schedule_name,
                "jobDefinitionName": self.job_definition_name,
                "driftAlarmArns": self.drift_alarm_arns,
                "roleArn": self.role_arn,
            }
        )
