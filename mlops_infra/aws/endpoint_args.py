"""Settings of the SageMaker Endpoint component: models, variants, data capture, rollout, alarms, scaling.

Every default is the secure choice. Limits come from the SageMaker, CloudWatch and Application
Auto Scaling API references; SageMaker feature exclusions (serverless, shadow) are checked here so
a plan fails with the field's name instead of a deploy failing halfway.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError, ValidationError

from mlops_infra.aws.arns import EcrRepositoryArn, KmsKeyArn, ModelPackageVersionArn, SnsTopicArn
from mlops_infra.aws.ecr import EcrImage
from mlops_infra.aws.multi_model import multi_model_problem
from mlops_infra.aws.s3 import check_s3_object, split_s3_uri
from mlops_infra.aws.schedule import eventbridge_cron
from mlops_infra.spec.alerts import Alerts
from mlops_infra.spec.base import Spec as ComponentArgs
from mlops_infra.spec.base import StrInput, Switch
from mlops_infra.spec.capture import DataCapture
from mlops_infra.spec.compute import check_aws_instance_type
from mlops_infra.spec.scaling import Scaling, ScalingTarget
from mlops_infra.spec.schedule import Schedule
from mlops_infra.spec.types import S3Uri

# SageMaker's variant-name pattern (ProductionVariant.VariantName).
VARIANT_NAME_PATTERN = r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$"
SERVERLESS_MEMORY_SIZES_MB: tuple[int, ...] = (1024, 2048, 3072, 4096, 5120, 6144)
# CloudWatch Logs accepts only these retention periods (days).
LOG_RETENTION_DAYS: tuple[int, ...] = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip
# AutoRollbackConfig.Alarms takes at most 10 alarms; the component makes this many per production variant.
MAX_ROLLBACK_ALARMS = 10
ALARMS_PER_VARIANT = 3
MAX_PRODUCTION_VARIANTS = 10


class ModelArgs(ComponentArgs):
    """One SageMaker model: a pinned ECR image and its artifact, or an approved registry version of them.

    A change creates a new model version. With ``model_package_arn`` SageMaker deploys the package;
    ``image`` and ``model_data_url`` must then be the package's, because the execution role is
    granted exactly those (a mismatch fails closed with AccessDenied).
    """

    image: EcrImage = Field(description="ECR image pinned to a tag other than 'latest' or to an @sha256 digest.")
    mode: Literal["SingleModel", "MultiModel"] = Field(
        "SingleModel",
        description="MultiModel: model_data_url is an s3:// prefix of many model.tar.gz, each loaded on first use.",
    )
    model_data_url: StrInput = Field(
        description="s3:// URI of the model artifact (for example model.tar.gz); may come from another resource."
    )
    environment: dict[str, str] = Field(
        default_factory=dict, max_length=100, description="Container environment variables (not for secrets)."
    )
    model_package_arn: ModelPackageVersionArn | None = Field(
        None, description="Approved model package version to deploy (.../model-package/GROUP/VERSION)."
    )

    @field_validator("model_data_url")
    @classmethod
    def _artifact_for_mode(cls, url: StrInput, info: ValidationInfo) -> StrInput:
        if not isinstance(url, str):
            return url
        if info.data.get("mode") == "MultiModel":
            if not url.endswith("/"):
                raise ValueError(f"{url!r}: a multi-model container reads an s3:// prefix ending in '/'")
            return url
        return check_s3_object(url)

    @field_validator("model_package_arn")
    @classmethod
    def _one_package_is_one_model(cls, arn: str | None, info: ValidationInfo) -> str | None:
        if arn is not None and info.data.get("mode") == "MultiModel":
            raise ValueError("a multi-model container serves a prefix of artifacts, not one model package version")
        return arn


class ServerlessArgs(ComponentArgs):
    """Serverless inference: SageMaker scales concurrency itself; there is no instance type or scaling target."""

    memory_size_mb: int = Field(2048, description="Memory per concurrent invocation: 1024-6144 in 1024 steps.")
    max_concurrency: int = Field(5, ge=1, le=200, description="Concurrent invocations before throttling (1-200).")
    provisioned_concurrency: int | None = Field(
        None, ge=1, le=200, description="Warm concurrency (no cold starts), billed while provisioned."
    )

    @field_validator("memory_size_mb")
    @classmethod
    def _memory_step(cls, memory: int) -> int:
        if memory not in SERVERLESS_MEMORY_SIZES_MB:
            raise ValueError(f"must be one of {list(SERVERLESS_MEMORY_SIZES_MB)} (MB)")
        return memory

    @field_validator("provisioned_concurrency")
    @classmethod
    def _within_max(cls, provisioned: int | None, info: ValidationInfo) -> int | None:
        maximum = info.data.get("max_concurrency")
        if provisioned is not None and maximum is not None and provisioned > maximum:
            raise ValueError(f"must not exceed max_concurrency ({maximum})")
        return provisioned


class OffHoursArgs(ComponentArgs):
    """Scheduled scale-down and scale-up of an instance variant (Application Auto Scaling scheduled actions).

    A SageMaker real-time variant cannot scale to zero instances: at ``stop`` it keeps one
    (min = max = 1); at ``start`` it returns to its autoscaling range.
    """

    stop: Schedule = Field(description="When the variant shrinks to one instance.")
    start: Schedule = Field(description="When the variant returns to min_replicas..max_replicas.")

    @field_validator("stop", "start")
    @classmethod
    def _eventbridge(cls, schedule: Schedule) -> Schedule:
        eventbridge_cron(schedule)  # Application Auto Scaling reads the same cron(...) as EventBridge
        return schedule


class AutoscalingArgs(Scaling):
    """The shared :class:`~mlops_infra.spec.Scaling` of an instance-based variant (Application Auto Scaling).

    Instance variants cannot scale to zero, so ``min_replicas`` is at least 1. Without ``target``
    the variant tracks SageMakerVariantInvocationsPerInstance at ``target_invocations_per_instance``.
    """

    min_replicas: int = Field(
        1, ge=0, le=1000, description="Fewest instances (>= 1; 0 only for an asynchronous endpoint's backlog)."
    )
    max_replicas: int = Field(4, ge=1, le=1000, description="Most instances; bounds the worst-case cost.")
    target: ScalingTarget | None = Field(  # type: ignore[assignment]
        None,
        description="Shared target (cpu_percent, requests_per_second, concurrency); None: "
        "target_invocations_per_instance.",
    )
    target_invocations_per_instance: float = Field(
        70.0, gt=0, description="Average invocations per instance per minute the policy holds the variant at."
    )
    backlog_per_replica: float | None = Field(
        None,
        gt=0,
        le=100_000,
        description="Asynchronous endpoints: queued requests per instance (ApproximateBacklogSizePerInstance) the "
        "policy holds; wins over target. Required for min_replicas 0 (scale to zero).",
    )

    @model_validator(mode="after")
    def _zero_needs_a_backlog(self) -> AutoscalingArgs:
        if self.min_replicas == 0 and self.backlog_per_replica is None:
            raise ValueError(
                "min_replicas 0 (scale to zero) needs backlog_per_replica: only asynchronous endpoints, which queue "
                "requests, scale to zero on SageMaker"
            )
        return self

    @property
    def scales_to_zero(self) -> bool:
        """True when idle instances go away entirely (asynchronous endpoints only)."""
        return self.min_replicas == 0

    off_hours: OffHoursArgs | None = Field(
        None, description="Shrink to one instance at off_hours.stop, back at off_hours.start; None: always up."
    )


class VariantArgs(ComponentArgs):
    """A production (or shadow) variant: one model on instances or serverless, with a traffic weight."""

    name: str = Field(pattern=VARIANT_NAME_PATTERN, description="Variant name; keep it stable across deploys.")
    model: ModelArgs
    serverless: ServerlessArgs | None = Field(None, description="Serverless capacity instead of instances.")
    instance_type: str | None = Field(None, description="ml.* instance type; required unless serverless.")
    initial_instance_count: int = Field(1, ge=1, le=1000, description="Instances at creation (instance-based).")
    weight: float = Field(1.0, ge=0, description="Relative traffic weight (A/B); for a shadow, the mirrored share.")
    autoscaling: AutoscalingArgs | None = Field(
        default_factory=AutoscalingArgs, description="Target-tracking scaling (instance-based variants only)."
    )

    @model_validator(mode="before")
    @classmethod
    def _serverless_scales_itself(cls, data: Any) -> Any:
        # The default scaling target applies to instance variants only; a serverless variant gets none.
        if isinstance(data, dict) and data.get("serverless") is not None and "autoscaling" not in data:
            return {**data, "autoscaling": None}
        return data

    @field_validator("instance_type")
    @classmethod
    def _instance_or_serverless(cls, instance_type: str | None, info: ValidationInfo) -> str | None:
        serverless = info.data.get("serverless") is not None
        if serverless and instance_type is not None:
            raise ValueError("a serverless variant has no instance type: remove instance_type or serverless")
        if not serverless and instance_type is None:
            raise ValueError("required for an instance-based variant (for example 'ml.m5.large'), or set serverless")
        if instance_type is not None:
            check_aws_instance_type(instance_type, "endpoint")
            model = info.data.get("model")
            if isinstance(model, ModelArgs) and model.mode == "MultiModel":
                problem = multi_model_problem(instance_type)
                if problem:
                    raise ValueError(problem)
        return instance_type

    @field_validator("autoscaling")
    @classmethod
    def _no_target_for_serverless(cls, scaling: AutoscalingArgs | None, info: ValidationInfo) -> AutoscalingArgs | None:
        if scaling is not None and info.data.get("serverless") is not None:
            raise ValueError("a serverless variant scales by max_concurrency; it takes no autoscaling target")
        return scaling

    @model_validator(mode="after")
    def _multi_model_on_instances(self) -> VariantArgs:
        if self.serverless is not None and self.model.mode == "MultiModel":
            raise ValueError("serverless inference does not host multi-model containers: use an instance type")
        return self

    @property
    def is_serverless(self) -> bool:
        return self.serverless is not None


class AsyncInferenceArgs(ComponentArgs):
    """Asynchronous inference: requests queue, results land KMS-encrypted in S3, SNS tells of each outcome.

    SageMaker writes results with the endpoint's key and publishes with the endpoint's execution role,
    which is granted exactly these prefixes and topics.
    """

    output_s3_uri: S3Uri = Field(description="s3://BUCKET/PREFIX results are written under.")
    failure_s3_uri: S3Uri | None = Field(None, description="s3:// prefix of failed requests' errors; None: output's.")
    success_topic_arn: SnsTopicArn | None = Field(
        None, description="SNS topic told of each result; None: a KMS-encrypted topic of the endpoint."
    )
    error_topic_arn: SnsTopicArn | None = Field(
        None,
        description="SNS topic told of each failure (an alert topic); None: a KMS-encrypted topic of the endpoint.",
    )
    max_concurrent_per_replica: int = Field(
        4, ge=1, le=1000, description="MaxConcurrentInvocationsPerInstance: requests one instance works on at once."
    )

    @field_validator("output_s3_uri", "failure_s3_uri")
    @classmethod
    def _prefix(cls, uri: StrInput | None) -> StrInput | None:
        if not isinstance(uri, str):
            return uri
        bucket, key = split_s3_uri(uri)
        return f"s3://{bucket}/{key.rstrip('/')}" if key else f"s3://{bucket}"


class VpcArgs(ComponentArgs):
    """Private subnets and security groups the model containers run in."""

    subnet_ids: list[StrInput] = Field(min_length=1, max_length=16)
    security_group_ids: list[StrInput] = Field(min_length=1, max_length=5)


class DataCaptureArgs(DataCapture):
    """Request/response capture to S3 (KMS-encrypted), the input of drift monitoring and audits.

    The shared :class:`~mlops_infra.spec.DataCapture` with SageMaker's limits: a whole percent
    sampled, an ``s3://`` destination, and the content types recorded as JSON or CSV.
    """

    sampling_percent: int = Field(100, ge=0, le=100, description="Share of requests captured, whole percent.")
    destination_uri: S3Uri | None = Field(
        None, description="Existing s3://BUCKET/PREFIX to capture to; default: a new secure bucket of the endpoint."
    )
    archive_after_days: int | None = Field(
        None, ge=1, le=36500, description="Days before captured objects move to GLACIER_IR (the endpoint's own bucket)."
    )
    json_content_types: list[str] = Field(default_factory=lambda: ["application/json"], max_length=10)
    csv_content_types: list[str] = Field(default_factory=lambda: ["text/csv"], max_length=10)

    @field_validator("destination_uri")
    @classmethod
    def _s3_prefix(cls, uri: StrInput | None) -> StrInput | None:
        if not isinstance(uri, str):
            return uri
        bucket, key = split_s3_uri(uri)
        return f"s3://{bucket}/{key}" if key else f"s3://{bucket}"

    @field_validator("csv_content_types")
    @classmethod
    def _some_content_type(cls, csv: list[str], info: ValidationInfo) -> list[str]:
        if not csv and not info.data.get("json_content_types"):
            raise ValueError("list at least one JSON or CSV content type to capture")
        return csv


class CapacitySize(ComponentArgs):
    """A step of a blue/green traffic shift: a number of instances or a percentage of the new fleet."""

    type: Literal["INSTANCE_COUNT", "CAPACITY_PERCENT"] = "CAPACITY_PERCENT"
    value: int = Field(ge=1, description="Instances, or percent of the new fleet's capacity.")


class DeploymentArgs(ComponentArgs):
    """Blue/green rollout with a baking period per step; rolls back when any of the endpoint's alarms fires."""

    strategy: Literal["canary", "linear", "all_at_once"] | None = Field(
        None, description="Traffic shift; default: canary in protected environments, all_at_once elsewhere."
    )
    canary_size: CapacitySize = Field(
        default_factory=lambda: CapacitySize(value=10), description="First step of a canary (<= 50 % of the fleet)."
    )
    linear_step_size: CapacitySize = Field(
        default_factory=lambda: CapacitySize(value=20), description="Each linear step (10-50 % of the fleet)."
    )
    wait_interval_seconds: int = Field(600, ge=0, le=3600, description="Baking period after each step (s).")
    termination_wait_seconds: int = Field(300, ge=0, le=3600, description="Old fleet kept after the shift (s).")
    maximum_execution_timeout_seconds: int | None = Field(
        None, ge=600, le=14400, description="Limit of the whole deployment (s); default: SageMaker's."
    )

    @field_validator("canary_size")
    @classmethod
    def _canary_at_most_half(cls, size: CapacitySize) -> CapacitySize:
        if size.type == "CAPACITY_PERCENT" and size.value > 50:
            raise ValueError("a canary is at most 50 % of the new fleet's capacity")
        return size

    @field_validator("linear_step_size")
    @classmethod
    def _linear_step_range(cls, size: CapacitySize) -> CapacitySize:
        if size.type == "CAPACITY_PERCENT" and not 10 <= size.value <= 50:
            raise ValueError("a linear step is 10-50 % of the new fleet's capacity")
        return size

    @field_validator("maximum_execution_timeout_seconds")
    @classmethod
    def _longer_than_waits(cls, timeout: int | None, info: ValidationInfo) -> int | None:
        if timeout is None or "wait_interval_seconds" not in info.data or "termination_wait_seconds" not in info.data:
            return timeout
        waiting = (
            info.data["wait_interval_seconds"] * cls._baking_steps(info.data) + info.data["termination_wait_seconds"]
        )
        if timeout <= waiting:
            raise ValueError(f"must exceed the total waiting time of the rollout ({waiting} s)")
        return timeout

    @staticmethod
    def _baking_steps(data: dict[str, Any]) -> int:
        """Baking periods in a rollout: 1 (all at once, canary) or one per linear step (when a percentage)."""
        step = data.get("linear_step_size")
        if data.get("strategy") == "linear" and isinstance(step, CapacitySize) and step.type == "CAPACITY_PERCENT":
            return math.ceil(100 / step.value)
        return 1


class AlarmArgs(Alerts):
    """Per-variant CloudWatch alarms; the same alarms drive automatic rollback of a deployment.

    The shared :class:`~mlops_infra.spec.Alerts` (error rate in percent, p95 latency in ms; SageMaker
    reports ModelLatency in microseconds and the alarm converts), plus model errors and SNS actions.
    """

    p95_latency_ms: float = Field(
        1000.0, gt=0, le=600_000, description="p95 ModelLatency ceiling, ms (the alarm compares microseconds)."
    )
    model_errors_per_period: int = Field(5, ge=0, description="InvocationModelErrors per period above which to alarm.")
    alarm_actions: list[SnsTopicArn] = Field(
        default_factory=list,
        max_length=5,
        description="SNS topic ARNs told on ALARM and on OK, for alarms of a severity without its own list.",
    )
    critical_actions: list[SnsTopicArn] = Field(
        default_factory=list,
        max_length=5,
        description="Topics of critical alarms (5XX rate, model errors); default: alarm_actions.",
    )
    warning_actions: list[SnsTopicArn] = Field(
        default_factory=list, max_length=5, description="Topics of warning alarms (latency); default: alarm_actions."
    )

    def actions(self, severity: str) -> list[StrInput]:
        """The topics an alarm of ``severity`` (critical or warning) notifies, on ALARM and on OK."""
        own = self.critical_actions if severity == "critical" else self.warning_actions
        return list(own or self.alarm_actions)

    @model_validator(mode="after")
    def _within_a_day(self) -> AlarmArgs:
        if self.evaluation_periods * self.period_seconds > 86400:
            raise ValueError("evaluation_periods x period_seconds must be at most one day (86400 s)")
        return self

    @property
    def seconds_to_alarm(self) -> int:
        """Shortest time from the first bad datapoint to ALARM (s)."""
        return self.datapoints_to_alarm * self.period_seconds


def _serverless(info: ValidationInfo) -> bool:
    return any(v.is_serverless for v in info.data.get("variants") or [])


class EndpointArgs(ComponentArgs):
    """Settings of a SageMaker real-time endpoint; fields are checked in order, later ones against earlier."""

    variants: list[VariantArgs] = Field(
        min_length=1, max_length=MAX_PRODUCTION_VARIANTS, description="Production variants (A/B by weight)."
    )
    shadow_variant: VariantArgs | None = Field(
        None, description="Receives a copy of live traffic (weight = mirrored share); its responses are discarded."
    )
    async_inference: AsyncInferenceArgs | None = Field(
        None, description="Queue requests (InvokeEndpointAsync): results in S3, SNS notices, backlog scaling."
    )
    kms_key_arn: KmsKeyArn | None = Field(
        None, description="Key ARN for volumes and captured data; default: platform key."
    )
    enable_network_isolation: Switch = Field(True, description="Containers make no outbound network calls.")
    vpc: VpcArgs | None = Field(None, description="Run the containers in these private subnets.")
    ecr_repository_arns: list[EcrRepositoryArn] = Field(
        default_factory=list, description="Extra ECR repositories to pull from (the images' own are derived)."
    )
    data_capture: DataCaptureArgs | None = Field(default_factory=DataCaptureArgs)
    allow_no_data_capture: Switch = Field(False, description="Opt-in needed for data_capture=None in protected envs.")
    alarms: AlarmArgs = Field(default_factory=AlarmArgs)
    deployment: DeploymentArgs | None = Field(
        default_factory=DeploymentArgs, description="None: SageMaker's default all-at-once swap, no rollback alarms."
    )
    allow_all_at_once: Switch = Field(
        False, description="Opt-in needed in protected envs for strategy all_at_once or deployment=None."
    )
    log_retention_days: int = Field(90, description="Retention of the endpoint's CloudWatch log group (days).")
    retain_replaced_versions: Switch | None = Field(
        None, description="Keep replaced models/configs in AWS (rollback safety); default: on in protected envs."
    )

    @model_validator(mode="before")
    @classmethod
    def _shadow_scaling_is_opt_in(cls, data: Any) -> Any:
        # Scaling a shadow fleet is a choice of the user; the default target applies to production variants.
        shadow = data.get("shadow_variant") if isinstance(data, dict) else None
        if isinstance(shadow, dict) and "autoscaling" not in shadow:
            return {**data, "shadow_variant": {**shadow, "autoscaling": None}}
        if isinstance(shadow, VariantArgs) and "autoscaling" not in shadow.model_fields_set:
            return {**data, "shadow_variant": shadow.model_copy(update={"autoscaling": None})}
        return data

    @field_validator("variants")
    @classmethod
    def _distinct_weighted_variants(cls, variants: list[VariantArgs]) -> list[VariantArgs]:
        names = [v.name for v in variants]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"variant names must be unique; repeated: {duplicates}")
        if all(v.weight == 0 for v in variants):
            raise ValueError("at least one variant needs a weight > 0, or no request is served")
        if len(variants) > 1 and any(v.is_serverless for v in variants):
            raise ValueError("a serverless variant must be the endpoint's only production variant")
        return variants

    @field_validator("shadow_variant")
    @classmethod
    def _one_production_variant(cls, shadow: VariantArgs | None, info: ValidationInfo) -> VariantArgs | None:
        if shadow is None or "variants" not in info.data:
            return shadow
        variants: list[VariantArgs] = info.data["variants"]
        if shadow.name in {v.name for v in variants}:
            raise ValueError(f"the shadow variant's name {shadow.name!r} is already a production variant's")
        if len(variants) != 1:
            raise ValueError("an endpoint with a shadow variant has exactly one production variant")
        if shadow.is_serverless or variants[0].is_serverless:
            raise ValueError("shadow variants are not supported on serverless endpoints")
        if shadow.model.mode != variants[0].model.mode:
            raise ValueError("the shadow variant's model must use the production variant's container mode")
        if shadow.weight <= 0:
            raise ValueError("the shadow variant needs a weight > 0 (the share of traffic it receives)")
        return shadow

    @field_validator("enable_network_isolation")
    @classmethod
    def _serverless_has_no_isolation(cls, isolated: bool, info: ValidationInfo) -> bool:
        if isolated and _serverless(info):
            raise ValueError("serverless inference does not support network isolation; set it to False explicitly")
        return isolated

    @field_validator("vpc")
    @classmethod
    def _serverless_has_no_vpc(cls, vpc: VpcArgs | None, info: ValidationInfo) -> VpcArgs | None:
        if vpc is not None and _serverless(info):
            raise ValueError("serverless inference does not support a VPC configuration")
        return vpc

    @field_validator("data_capture")
    @classmethod
    def _serverless_has_no_capture(
        cls, capture: DataCaptureArgs | None, info: ValidationInfo
    ) -> DataCaptureArgs | None:
        if capture is not None and _serverless(info):
            raise ValueError(
                "serverless inference does not support data capture: set data_capture=None "
                "(and allow_no_data_capture=True in protected environments)"
            )
        return capture

    @field_validator("deployment")
    @classmethod
    def _guardrails_supported(cls, deployment: DeploymentArgs | None, info: ValidationInfo) -> DeploymentArgs | None:
        if deployment is None or "variants" not in info.data:
            return deployment
        variants: list[VariantArgs] = info.data["variants"]
        if _serverless(info):
            raise ValueError(
                "SageMaker deployment guardrails (blue/green with rollback alarms) do not support endpoints with "
                "a serverless variant: set deployment=None (and allow_all_at_once=True in protected environments)"
            )
        # Blue/green guardrails take several production variants and a shadow variant (only rolling
        # deployments exclude multi-variant endpoints); every variant's alarms roll the deployment back.
        watched = len(variants) + (1 if info.data.get("shadow_variant") is not None else 0)
        if watched * ALARMS_PER_VARIANT > MAX_ROLLBACK_ALARMS:
            raise ValueError(
                f"automatic rollback takes at most {MAX_ROLLBACK_ALARMS} alarms and each variant (shadow included) "
                f"has {ALARMS_PER_VARIANT}: use at most {MAX_ROLLBACK_ALARMS // ALARMS_PER_VARIANT} variants"
            )
        alarms = info.data.get("alarms")
        if isinstance(alarms, AlarmArgs) and deployment.wait_interval_seconds < alarms.seconds_to_alarm:
            raise ValueError(
                f"wait_interval_seconds ({deployment.wait_interval_seconds}) is shorter than the alarms need to fire "
                f"({alarms.seconds_to_alarm} s = datapoints_to_alarm x period_seconds), so no rollback could happen"
            )
        return deployment

    @field_validator("log_retention_days")
    @classmethod
    def _retention_value(cls, days: int) -> int:
        if days not in LOG_RETENTION_DAYS:
            raise ValueError(f"must be one of CloudWatch Logs' retention periods {list(LOG_RETENTION_DAYS)}")
        return days

    @model_validator(mode="after")
    def _backlog_scaling_is_async(self) -> EndpointArgs:
        for index, variant in enumerate(self.all_variants):
            scaling = variant.autoscaling
            if scaling is not None and scaling.backlog_per_replica is not None and self.async_inference is None:
                raise ValueError(
                    f"variant {index} ({variant.name}): backlog_per_replica scales on the asynchronous queue; "
                    "set async_inference or remove it"
                )
        if self.async_inference is not None and any(v.is_serverless for v in self.all_variants):
            raise ValueError("asynchronous inference runs on instances: a serverless variant has no queue")
        return self

    @property
    def all_variants(self) -> list[VariantArgs]:
        """Production variants, then the shadow variant (if any)."""
        return [*self.variants, *([self.shadow_variant] if self.shadow_variant else [])]


Strategy = Literal["canary", "linear", "all_at_once"]
MIN_FLEET_FOR_GRADUAL_ROLLOUT = 2


def _error(loc: tuple[str | int, ...], kind: str, message: str, value: Any) -> InitErrorDetails:
    return InitErrorDetails(type=PydanticCustomError(kind, message), loc=loc, input=value)


def _fleet_errors(args: EndpointArgs, deployment: DeploymentArgs, strategy: str) -> list[InitErrorDetails]:
    """A canary or linear step is at most half of a variant's fleet, so every fleet needs 2+ instances."""
    errors: list[InitErrorDetails] = []
    why = (
        f"a {strategy} rollout moves at most 50 % of a variant's instances per step, so every variant needs "
        "at least 2 instances (or choose deployment.strategy='all_at_once')"
    )
    for index, variant in enumerate(args.variants):
        if variant.initial_instance_count < MIN_FLEET_FOR_GRADUAL_ROLLOUT:
            loc: tuple[str | int, ...] = ("variants", index, "initial_instance_count")
            errors.append(_error(loc, "fleet_too_small", why, variant.initial_instance_count))
        if variant.autoscaling is not None and variant.autoscaling.min_replicas < MIN_FLEET_FOR_GRADUAL_ROLLOUT:
            loc = ("variants", index, "autoscaling", "min_replicas")
            errors.append(_error(loc, "fleet_too_small", why, variant.autoscaling.min_replicas))
    field = "canary_size" if strategy == "canary" else "linear_step_size"
    step: CapacitySize = getattr(deployment, field)
    smallest = min(v.autoscaling.min_replicas if v.autoscaling else v.initial_instance_count for v in args.variants)
    if step.type == "INSTANCE_COUNT" and step.value * 2 > smallest:
        message = f"{step.value} instances is more than 50 % of the smallest fleet ({smallest} instances)"
        errors.append(_error(("deployment", field), "step_too_large", message, step.value))
    return errors


def check_environment(args: EndpointArgs, protected: bool, environment: str) -> Strategy | None:
    """The rollout strategy for this environment; refuses, before anything is registered, controls
    turned off in a protected environment without their opt-in field and rollouts the fleet cannot do.
    """
    errors: list[InitErrorDetails] = []
    if protected and args.data_capture is None and not args.allow_no_data_capture:
        message = f"data capture is required in the protected environment {environment!r}; "
        message += "set allow_no_data_capture=True to run without it"
        errors.append(_error(("data_capture",), "data_capture_required", message, None))
    deployment = args.deployment
    strategy: Strategy | None = None
    if deployment is not None:
        strategy = deployment.strategy or ("canary" if protected else "all_at_once")
    if protected and strategy in (None, "all_at_once") and not args.allow_all_at_once:
        shift = "deployment=None (an all-at-once swap)" if deployment is None else "strategy 'all_at_once'"
        message = f"{shift} in the protected environment {environment!r} needs allow_all_at_once=True "
        message += "(the default there is a canary rollout with automatic rollback)"
        errors.append(_error(("deployment",), "gradual_rollout_required", message, None))
    if deployment is not None and strategy in ("canary", "linear"):
        errors += _fleet_errors(args, deployment, strategy)
    if errors:
        raise ValidationError.from_exception_data(EndpointArgs.__name__, errors)
    return strategy
