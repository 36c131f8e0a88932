"""A cloud-neutral :class:`~mlops_infra.spec.PlatformSpec` realized with the AWS SageMaker components.

``check`` refuses, naming the spec's field, everything AWS cannot realize (a ``gs://`` artifact, a
missing ECR image, a cron that restricts both day fields, a rollout SageMaker cannot run on the
fleet, ...) before anything is registered; it also builds every component's args once, so an
AWS-only limit fails here and not halfway through a plan. ``realize`` then creates, under the
platform component: the platform key, the model store, the feature store, the registry (its
approval gate from the environment), the training pipeline (schedule, metric gate, retraining on
the drift alarms), every endpoint with its drift monitor, each ``batch`` entry's scheduled
transform (:class:`~mlops_infra.aws.batch_transform.BatchTransform`; relative inputs and outputs in a
KMS-encrypted batch data bucket, outputs by default under ``predictions/<name>/``), and the budget.

Approved models in protected environments: a SageMaker endpoint serves an approved registry
version when its model names the version's ARN (``modelPackageName``, policy model-approval).
SageMaker has no "approved alias" to follow at deploy time, so the version is data:
``aws.approved_model_packages[<endpoint>]`` holds its number in the platform's registry group (the
ARN is built from the group, account and region) or a version ARN of another registry. It is
required in protected environments, and optional in dev. A ``batch`` entry is keyed the same way by
its name (without one, in dev, it scores the spec's image and artifact). With ``registry.approval.serve:
latest_approved`` the endpoints follow the group's newest Approved package instead, resolved when
the program runs (:mod:`mlops_infra.registry`, docs/approval-to-rollout.md).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

import pulumi
import pulumi_aws as aws
from pydantic import ValidationError

from mlops_infra.aws import pipeline_template as template
from mlops_infra.aws.account import arn
from mlops_infra.aws.airflow_realization import airflow_args, realize_airflow
from mlops_infra.aws.alert_routing import SeverityActions, check_alerts, create_alert_routing
from mlops_infra.aws.audit_trail import AuditTrail
from mlops_infra.aws.batch_transform import BatchTransform, BatchTransformArgs
from mlops_infra.aws.budget import Budget, BudgetArgs
from mlops_infra.aws.cost_anomaly import CostAnomalyAlerts, CostAnomalyAlertsArgs
from mlops_infra.aws.dashboard import OperationsDashboard
from mlops_infra.aws.deploy_webhook import deploy_on_approval
from mlops_infra.aws.ecr import parse_ecr_image
from mlops_infra.aws.endpoint import Endpoint
from mlops_infra.aws.endpoint_args import EndpointArgs, check_environment
from mlops_infra.aws.feature_store import FeatureStore
from mlops_infra.aws.feature_store_args import RESERVED_FEATURE_NAMES, FeatureStoreArgs
from mlops_infra.aws.model_monitor import ModelMonitor, ModelMonitorArgs
from mlops_infra.aws.model_monitor_images import region_without_image
from mlops_infra.aws.model_registry import ModelRegistry, ModelRegistryArgs
from mlops_infra.aws.persona_roles import PERSONAS, PersonaRoles
from mlops_infra.aws.platform_key import CLOUDTRAIL_PRINCIPAL, PlatformKey
from mlops_infra.aws.rollback_alert import page_on_rollback
from mlops_infra.aws.schedule import eventbridge_cron, model_monitor_cron
from mlops_infra.aws.secure_bucket import SecureBucket, SecureBucketArgs
from mlops_infra.aws.sns_policy import event_rule_arn
from mlops_infra.aws.tracking_server import TrackingServer, TrackingServerArgs
from mlops_infra.aws.training_pipeline import TrainingPipeline, resolve_approval_status
from mlops_infra.aws.training_pipeline_args import MAX_TRAINING_SECONDS, TrainingPipelineArgs
from mlops_infra.conventions import naming
from mlops_infra.outputs import concat, json_text
from mlops_infra.realization import RealizeContext
from mlops_infra.registry import follows_latest_approved, latest_sagemaker_package
from mlops_infra.registry.deploy_token import check_deploy_token
from mlops_infra.spec.alerts import Severity
from mlops_infra.spec.approval import ApprovalMode
from mlops_infra.spec.base import Spec, StrInput, field_error
from mlops_infra.spec.batch import BatchInferenceSpec
from mlops_infra.spec.challenger import ChallengerMode
from mlops_infra.spec.cloud import Cloud
from mlops_infra.spec.compute import Compute
from mlops_infra.spec.endpoint import EndpointSpec
from mlops_infra.spec.environment import (
    audit_enabled,
    effective_approval,
    effective_data_capture,
    effective_rollout,
    effective_scaling,
    monitoring_enabled,
)
from mlops_infra.spec.feature_store import FeatureGroupSpec, FeatureType
from mlops_infra.spec.images import Images
from mlops_infra.spec.platform import PlatformSpec
from mlops_infra.spec.rollout import Rollout, RolloutStrategy
from mlops_infra.spec.schedule import Schedule
from mlops_infra.spec.support import refuse_unrealized
from mlops_infra.spec.training import Orchestrator
from mlops_infra.spec.types import uri_scheme

# SageMaker Feature Store types (its only three).
FEATURE_TYPES: dict[FeatureType, str] = {
    FeatureType.STRING: "String",
    FeatureType.INT64: "Integral",
    FeatureType.FLOAT64: "Fractional",
    FeatureType.TIMESTAMP: "Fractional",  # Unix epoch seconds, as SageMaker reads a Fractional event time
    FeatureType.BOOL: "Integral",  # 0 or 1
}
# SageMaker canary and linear steps move at most half of a variant's fleet.
MAX_STEP_PERCENT = 50
ROLLBACK_RULE = "endpoint-rollback"
"""EventBridge rule: an endpoint deployment rolled back (pages the critical topic, the only rule that may)."""
FAILED_RUNS_RULE = "training-failed"
"""EventBridge rule: a training pipeline run failed (the warning topic's one EventBridge publisher)."""
BATCH_FAILED_RULE = "batch-failed"
"""EventBridge rule: a scheduled batch run's supervisor failed (a warning, like a failed training run)."""
MIN_LINEAR_STEP_PERCENT = 10
MIN_FLEET_FOR_GRADUAL_ROLLOUT = 2
# AWS Budgets takes at most 5 notifications: one per threshold (actual spend) plus a forecast at the highest.
MAX_BUDGET_NOTIFICATIONS = 5
MAX_BUDGET_SUBSCRIBERS = 10
MONITOR_INSTANCE = Compute().aws_instance_type()
PROCESSING_INSTANCE = Compute().aws_instance_type()
STATISTICS_FILE = "statistics.json"
CONSTRAINTS_FILE = "constraints.json"

# Stand-ins for values that exist only once resources do, so ``check`` can build every args model.
_KEY_PLACEHOLDER = "arn:aws:kms:us-east-1:000000000000:key/00000000-0000-0000-0000-000000000000"
_STORE_PLACEHOLDER = "s3://model-store-placeholder"
_PIPELINE_PLACEHOLDER = "arn:aws:sagemaker:us-east-1:000000000000:pipeline/placeholder"
_PACKAGE_PLACEHOLDER = "arn:aws:sagemaker:us-east-1:000000000000:model-package/placeholder/1"

Loc = tuple[str | int, ...]
ArgsT = TypeVar("ArgsT", bound=Spec)


def _error(location: Loc, message: str, value: Any = None) -> ValidationError:
    return field_error(PlatformSpec, location, message, value)


# --- values the spec leaves to each cloud -------------------------------------------------------------


def _image(images: Images, location: Loc, what: str) -> str:
    """The ECR image AWS runs for ``images``; a missing or non-ECR image is an error naming where to set it."""
    image = images.for_cloud(Cloud.AWS)
    source: Loc = (*location, "per_cloud", Cloud.AWS.value) if Cloud.AWS in images.per_cloud else (*location, "image")
    if image is None:
        raise _error(
            (*location, "per_cloud", Cloud.AWS.value),
            f"no {what} image for AWS: set {'.'.join(map(str, location))}.per_cloud.aws (or .image) to an ECR image",
        )
    try:
        parse_ecr_image(image)
    except ValueError as exc:
        raise _error(source, str(exc), image) from None
    return image


def _store_base(spec: PlatformSpec, store_bucket: StrInput | None) -> StrInput:
    """``s3://...`` that relative paths resolve against: ``aws.model_store_uri``, else the platform's model store."""
    uri = spec.aws.model_store_uri
    if isinstance(uri, str):
        return uri.rstrip("/")
    if uri is not None:
        return cast(pulumi.Output[str], uri).apply(lambda known: known.rstrip("/"))
    if store_bucket is None:
        return _STORE_PLACEHOLDER
    return concat("s3://", store_bucket)


def _resolve(path: str, base: StrInput) -> StrInput:
    """An absolute ``s3://`` URI as it is; a relative path under the model store."""
    if "://" in path:
        return path
    if isinstance(base, str):
        return f"{base}/{path}"
    return concat(base, "/", path)


def _check_s3(value: str, location: Loc, what: str) -> None:
    scheme = uri_scheme(value)
    if scheme and scheme != "s3":
        raise _error(
            location, f"{what} {value!r} is a {scheme}:// URI; on AWS it must be s3:// or a relative path", value
        )


# --- feature store --------------------------------------------------------------------------------------


def _group_definition(group: FeatureGroupSpec, location: Loc) -> dict[str, Any]:
    types = {f.name: f.type for f in group.features}
    for index, feature in enumerate(group.features):
        if feature.name in RESERVED_FEATURE_NAMES:
            raise _error(
                (*location, "features", index, "name"),
                f"{feature.name!r} is a column SageMaker adds to every offline table; rename the feature",
            )
    if types[group.entity_key] not in (FeatureType.STRING, FeatureType.INT64):
        raise _error(
            (*location, "entity_key"),
            f"SageMaker identifies records by a string or int64 feature, not {types[group.entity_key].value}",
        )
    if types[group.event_time] not in (FeatureType.TIMESTAMP, FeatureType.FLOAT64, FeatureType.STRING):
        raise _error(
            (*location, "event_time"),
            f"SageMaker reads the event time from a timestamp, float64 or string feature, not "
            f"{types[group.event_time].value}",
        )
    definition: dict[str, Any] = {
        # SageMaker group names take '-' where the spec's names take '_'.
        "name": group.name.replace("_", "-"),
        "features": [{"name": f.name, "type": FEATURE_TYPES[f.type]} for f in group.features],
        "entity_key": group.entity_key,
        "event_time": group.event_time,
        "online": group.online,
        "online_ttl": {"unit": "Days", "value": group.online_ttl_days}
        if group.online and group.online_ttl_days
        else None,
        "table_format": "Iceberg",
    }
    if group.description:
        definition["description"] = group.description[:128]
    return definition


def feature_store_args(spec: PlatformSpec, key_arn: StrInput) -> FeatureStoreArgs | None:
    """The feature store's args; offline records move to archive storage after ``offline_retention_days``."""
    store = spec.feature_store
    if store is None:
        return None
    groups = [_group_definition(g, ("feature_store", "feature_groups", i)) for i, g in enumerate(store.feature_groups)]
    # None keeps offline records where they are (no tiering); a number archives them after that many days.
    lifecycle: dict[str, Any] = {"offline_transition_to_ia_days": None, "offline_transition_to_glacier_ir_days": None}
    # The store's own retention, else the platform's archive lifecycle.
    days = store.offline_retention_days
    if days is None and spec.lifecycle.archive_after_days is not None:
        lifecycle = {
            "offline_transition_to_glacier_ir_days": spec.lifecycle.archive_after_days,
            "offline_transition_to_ia_days": None,
        }
    elif days is not None:
        # Archive (GLACIER_IR) after the retention; STANDARD_IA first when S3's 30-day minimums leave room.
        lifecycle = {
            "offline_transition_to_glacier_ir_days": days,
            "offline_transition_to_ia_days": min(90, days - 30) if days >= 60 else None,
        }
    return _build(
        FeatureStoreArgs,
        {"kms_key_arn": key_arn, "feature_groups": groups, **lifecycle},
        ("feature_store",),
    )


# --- registry -------------------------------------------------------------------------------------------


def registry_args(spec: PlatformSpec, context: RealizeContext, key_arn: StrInput) -> ModelRegistryArgs:
    """The registry's args: manual approval (PendingManualApproval) unless the environment or spec says automatic."""
    approval = effective_approval(spec.registry, context.defaults)
    if approval.mode is ApprovalMode.AUTOMATIC and context.defaults.protected:
        raise _error(
            ("registry", "approval", "mode"),
            f"automatic approval in the protected environment {context.defaults.environment!r} would register models "
            "as Approved (policy model-approval): use manual",
            approval.mode.value,
        )
    return _build(
        ModelRegistryArgs,
        {
            "group_name": spec.registry.model_name,
            "description": spec.registry.description or None,
            "kms_key_arn": key_arn,
            "approval_mode": approval.mode,
            "notification_emails": list(spec.alerts.emails),
        },
        ("registry",),
    )


# --- training -------------------------------------------------------------------------------------------


def training_schedule(schedule: Schedule) -> tuple[str, str]:
    """(EventBridge ``cron(...)``, IANA time zone) of the spec's schedule."""
    try:
        return eventbridge_cron(schedule), schedule.time_zone
    except ValueError as exc:
        raise _error(("training", "schedule", "cron"), str(exc), schedule.cron) from None


def drift_alarm_pattern(context: RealizeContext) -> str:
    """Wildcard over every drift alarm of this platform's monitors (``{project}-{env}-aws-*-monitor-drift-*``)."""
    settings = context.platform.settings
    return f"{settings.project}-{context.platform.environment}-{context.child_name('')}*-monitor-drift-*"


def training_args(
    spec: PlatformSpec,
    context: RealizeContext,
    *,
    key_arn: StrInput,
    group_name: StrInput,
    approval_status: str,
    artifact_bucket: tuple[StrInput, StrInput] | None,
    artifact_prefix: str | None,
    retrain_on_drift: bool,
    refresh_baseline: bool = False,
    tracking_server_arn: StrInput | None = None,
) -> TrainingPipelineArgs | None:
    """The pipeline's args: the AWS image, the size class's instance, spot, the metric gate, schedule, retraining."""
    training = spec.training
    if training is None:
        return None
    image = _image(training.image, ("training", "image"), "training")
    unknown = sorted(set(training.parameters) - set(template.TEMPLATE_PARAMETER_NAMES))
    if unknown:
        raise _error(
            ("training", "parameters", unknown[0]),
            f"{unknown[0]!r} is not a parameter of the SageMaker pipeline {list(template.TEMPLATE_PARAMETER_NAMES)}",
        )
    values: dict[str, Any] = {
        "kms_key_arn": key_arn,
        "model_package_group_name": group_name,
        "model_approval_status": approval_status,
        "training_image_uri": image,
        "processing_image_uri": image,
        "training_instance_type": training.compute.aws_instance_type(),
        "processing_instance_type": PROCESSING_INSTANCE,
        "volume_size_gb": training.volume_size_gb,
        "max_runtime_seconds": training.max_runtime_seconds,
        "gate": training.gate.model_dump(),
        "use_spot": training.use_spot,
        # Spot capacity may take as long as the run itself to appear.
        "max_wait_seconds": min(2 * training.max_runtime_seconds, MAX_TRAINING_SECONDS) if training.use_spot else None,
        "artifact_prefix": artifact_prefix,
        "artifact_archive_after_days": spec.lifecycle.archive_after_days,
        "tracking_server_arn": tracking_server_arn,
        "tracking_experiment": spec.tracking.experiment_name(spec.registry.model_name) if spec.tracking else None,
        # After a registration, the pipeline writes the baseline the drift monitors read.
        "refresh_monitoring_baseline": refresh_baseline,
        "analyzer_image_uri": spec.aws.analyzer_image_uri,
    }
    if artifact_bucket is not None:
        values["artifact_bucket_name"], values["artifact_bucket_arn"] = artifact_bucket
    # With training.orchestrator airflow the DAG owns the schedule (aws/airflow_realization.py): one scheduler.
    if training.schedule is not None and training.orchestrator is Orchestrator.NATIVE:
        training_schedule(training.schedule)  # refuses, naming training.schedule.cron, what EventBridge cannot say
        values["schedule"] = {
            "cron": training.schedule.cron,
            "time_zone": training.schedule.time_zone,
            "pipeline_parameters": dict(training.parameters),
        }
    if retrain_on_drift:
        values["retrain_on_alarm_name_patterns"] = [drift_alarm_pattern(context)]
    args = _build(TrainingPipelineArgs, values, ("training",))
    try:
        resolve_approval_status(args, context.platform)
    except ValidationError as exc:
        raise _error(("training", "parameters", template.MODEL_APPROVAL_STATUS), _reason(exc)) from None
    return args


def tracking_args(spec: PlatformSpec, key_arn: StrInput, group_name: StrInput) -> TrackingServerArgs | None:
    """The managed MLflow server of ``tracking``: its size and version, registration into the registry's group."""
    tracking = spec.tracking
    if tracking is None:
        return None
    return _build(
        TrackingServerArgs,
        {
            "kms_key_arn": key_arn,
            "size": tracking.size,
            "mlflow_version": tracking.mlflow_version,
            "model_package_group_name": group_name,
            "automatic_model_registration": tracking.register_models,
            "archive_after_days": spec.lifecycle.archive_after_days,
        },
        ("tracking",),
    )


def off_hours_args(spec: PlatformSpec, environment: str) -> dict[str, Any] | None:
    """The variants' scheduled scale-down and scale-up in ``environment``; None when off-hours do not apply.

    A real-time variant keeps one instance at night: SageMaker cannot scale it to zero.
    """
    off_hours = spec.off_hours
    if off_hours is None or not off_hours.applies_to(environment):
        return None
    for phase, schedule in (("stop", off_hours.stop), ("start", off_hours.start)):
        try:
            eventbridge_cron(schedule)
        except ValueError as exc:
            raise _error(("off_hours", phase, "cron"), str(exc), schedule.cron) from None
    return {"stop": off_hours.stop, "start": off_hours.start}


# --- endpoints ------------------------------------------------------------------------------------------


def _deployment(rollout: Rollout, location: Loc, protected: bool, environment: str) -> dict[str, Any] | None:
    """SageMaker deployment guardrails for the rollout; None is SageMaker's all-at-once swap."""
    strategy = rollout.strategy
    if protected and strategy in (RolloutStrategy.ALL_AT_ONCE, RolloutStrategy.BLUE_GREEN):
        raise _error(
            (*location, "strategy"),
            f"{strategy.value} shifts all traffic at once on SageMaker, refused in the protected environment "
            f"{environment!r} (policy deployment-safety): use canary or linear",
            strategy.value,
        )
    if strategy is RolloutStrategy.ALL_AT_ONCE:
        return None
    if not rollout.rollback_on_alarms:
        raise _error(
            (*location, "rollback_on_alarms"),
            "SageMaker deployment guardrails always roll back on the endpoint's alarms; use all_at_once for none",
        )
    deployment: dict[str, Any] = {"wait_interval_seconds": rollout.bake_seconds}
    if strategy is RolloutStrategy.BLUE_GREEN:
        return {**deployment, "strategy": "all_at_once"}
    field, percent, low = (
        ("canary_percent", rollout.canary_percent, 1)
        if strategy is RolloutStrategy.CANARY
        else ("step_percent", rollout.step_percent, MIN_LINEAR_STEP_PERCENT)
    )
    if percent != int(percent) or not low <= percent <= MAX_STEP_PERCENT:
        raise _error(
            (*location, field),
            f"SageMaker {strategy.value} steps are whole percents of the fleet from {low} to {MAX_STEP_PERCENT}",
            percent,
        )
    size = {"type": "CAPACITY_PERCENT", "value": int(percent)}
    key = "canary_size" if strategy is RolloutStrategy.CANARY else "linear_step_size"
    return {**deployment, "strategy": strategy.value, key: size}


def endpoint_args(
    spec: PlatformSpec,
    index: int,
    context: RealizeContext,
    *,
    key_arn: StrInput,
    store_base: StrInput,
    package_arn: StrInput | None,
    alarm_actions: list[StrInput] | None = None,
    actions: SeverityActions | None = None,
    challenger_package_arn: StrInput | None = None,
) -> EndpointArgs:
    """One endpoint's args: compute, scaling, rollout, capture and alarms after the environment's defaults.

    ``actions`` routes each alarm to its severity's topics (5XX rate and model errors: critical,
    latency: warning); ``alarm_actions`` is told of every alarm whose severity has no topics.
    The serving modes: ``invocation`` async adds the queue (results under the model store, errors to
    the warning topics, backlog scaling, scale to zero); ``challenger`` a second production variant
    (A/B) or a shadow variant; ``multi_model`` a MultiModel container reading the artifact prefix.
    """
    endpoint = spec.endpoints[index]
    location: Loc = ("endpoints", index)
    defaults = context.defaults
    image = _image(endpoint.model.serving, (*location, "model", "serving"), "serving")
    _check_s3(endpoint.model.artifact, (*location, "model", "artifact"), "the model artifact")
    asynchronous = endpoint.invocation.is_async
    _check_serving_modes(spec, index, context)
    scaling = effective_scaling(endpoint, defaults, can_scale_to_zero=asynchronous)
    if scaling.min_replicas < 1 and not asynchronous:
        raise _error(
            (*location, "scaling", "min_replicas"),
            "SageMaker real-time endpoints cannot scale to zero (only invocation kind async can): use 1 or more",
            scaling.min_replicas,
        )
    rollout = effective_rollout(endpoint, defaults)
    rollout_location: Loc = (*location, "rollout")
    deployment = _deployment(rollout, rollout_location, defaults.protected, defaults.environment)
    if rollout.strategy in (RolloutStrategy.CANARY, RolloutStrategy.LINEAR) and (
        scaling.min_replicas < MIN_FLEET_FOR_GRADUAL_ROLLOUT
    ):
        raise _error(
            (*location, "scaling", "min_replicas"),
            f"a SageMaker {rollout.strategy.value} rollout moves at most half of the fleet per step, so it needs "
            f"at least {MIN_FLEET_FOR_GRADUAL_ROLLOUT} instances",
            scaling.min_replicas,
        )
    capture = effective_data_capture(endpoint, defaults)
    data_capture: dict[str, Any] | None = None
    if capture is not None:
        if capture.sampling_percent != int(capture.sampling_percent):
            raise _error(
                (*location, "data_capture", "sampling_percent"),
                "SageMaker samples a whole percent of requests (0-100)",
                capture.sampling_percent,
            )
        destination = capture.destination_uri
        if isinstance(destination, str):
            _check_s3(destination, (*location, "data_capture", "destination_uri"), "the capture destination")
        data_capture = {
            "sampling_percent": int(capture.sampling_percent),
            "archive_after_days": spec.lifecycle.archive_after_days,
            "destination_uri": destination,
            "capture_request": capture.capture_request,
            "capture_response": capture.capture_response,
        }
    label = effective_approval(spec.registry, defaults).approved_label
    autoscaling: dict[str, Any] = {
        "min_replicas": scaling.min_replicas,
        "max_replicas": scaling.max_replicas,
        "target": scaling.target,
        "scale_in_cooldown_seconds": scaling.scale_in_cooldown_seconds,
        "scale_out_cooldown_seconds": scaling.scale_out_cooldown_seconds,
        # A variant that scales to zero idles at night already; the others keep one instance off-hours.
        "off_hours": off_hours_args(spec, defaults.environment) if scaling.min_replicas > 0 else None,
    }
    if asynchronous:
        autoscaling["backlog_per_replica"] = endpoint.invocation.backlog_per_replica
    mode = "MultiModel" if endpoint.multi_model else "SingleModel"
    variant: dict[str, Any] = {
        "name": label,
        "model": {
            "image": image,
            "model_data_url": _resolve(endpoint.model.artifact, store_base),
            "model_package_arn": package_arn,
            "mode": mode,
        },
        "instance_type": endpoint.compute.aws_instance_type(),
        # SageMaker starts every variant with an instance; an asynchronous one then scales in to zero.
        "initial_instance_count": max(1, scaling.min_replicas),
        "autoscaling": autoscaling,
    }
    variants, shadow = _with_challenger(endpoint, location, variant, store_base, challenger_package_arn)
    asynchronous_args = _async_args(spec, index, store_base, actions) if asynchronous else None
    alerts = endpoint.alerts
    args = _build(
        EndpointArgs,
        {
            "kms_key_arn": key_arn,
            "variants": variants,
            "shadow_variant": shadow,
            "async_inference": asynchronous_args,
            "data_capture": data_capture,
            "alarms": {
                "error_rate_percent": alerts.error_rate_percent,
                "p95_latency_ms": alerts.p95_latency_ms,
                "period_seconds": alerts.period_seconds,
                "evaluation_periods": alerts.evaluation_periods,
                "datapoints_to_alarm": alerts.datapoints_to_alarm,
                "alarm_actions": alarm_actions or [],
                "critical_actions": actions.critical if actions else [],
                "warning_actions": actions.warning if actions else [],
            },
            "deployment": deployment,
            # Only reached in dev: check refuses all-at-once in protected environments above.
            "allow_all_at_once": deployment is None,
        },
        location,
    )
    try:
        check_environment(args, defaults.protected, defaults.environment)
    except ValidationError as exc:
        raise _error(location, f"AWS cannot realize this endpoint: {_reason(exc)}") from None
    return args


ASYNC_PREFIX = "async"
"""Asynchronous results live under ``async/<endpoint>/`` of the model store and expire with the spec's retention."""
CHALLENGER_VARIANT = "challenger"


def async_prefix(endpoint_name: str) -> str:
    """The model store prefix of one endpoint's asynchronous results and errors (``async/<endpoint>/``)."""
    return f"{ASYNC_PREFIX}/{endpoint_name}/"


def async_result_expiry(spec: PlatformSpec) -> dict[str, int]:
    """Model store prefix -> days its objects are kept: each asynchronous endpoint's results."""
    return {
        async_prefix(endpoint.name): endpoint.invocation.result_retention_days
        for endpoint in spec.endpoints
        if endpoint.invocation.is_async
    }


def _async_args(
    spec: PlatformSpec, index: int, store_base: StrInput, actions: SeverityActions | None
) -> dict[str, Any]:
    """The queue of endpoint ``index``: results and errors under the model store, errors to the warning topics."""
    endpoint = spec.endpoints[index]
    prefix = async_prefix(endpoint.name)
    warning = actions.warning if actions is not None else []
    return {
        "output_s3_uri": _resolve(f"{prefix}results", store_base),
        "failure_s3_uri": _resolve(f"{prefix}errors", store_base),
        # A failed request is a warning: it reaches the people the warning alerts reach.
        "error_topic_arn": warning[0] if warning else None,
        "max_concurrent_per_replica": endpoint.invocation.max_concurrent_per_replica,
    }


def _with_challenger(
    endpoint: EndpointSpec,
    location: Loc,
    champion: dict[str, Any],
    store_base: StrInput,
    package_arn: StrInput | None,
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """(production variants, shadow variant): the champion alone, or with its challenger (A/B weight or shadow)."""
    challenger = endpoint.challenger
    if challenger is None:
        return [champion], None
    where: Loc = (*location, "challenger")
    _check_s3(challenger.model.artifact, (*where, "model", "artifact"), "the challenger's artifact")
    second: dict[str, Any] = {
        "name": CHALLENGER_VARIANT,
        "model": {
            "image": _image(challenger.model.serving, (*where, "model", "serving"), "serving"),
            "model_data_url": _resolve(challenger.model.artifact, store_base),
            "model_package_arn": package_arn,
        },
        "instance_type": (challenger.compute or endpoint.compute).aws_instance_type(),
        "initial_instance_count": champion["initial_instance_count"],
        "autoscaling": dict(champion["autoscaling"]),
        "weight": round(challenger.percent / 100, 6),
    }
    if challenger.mode is ChallengerMode.AB:
        # Weights are relative: the champion answers (100 - percent) %, the challenger percent %.
        return [{**champion, "weight": round(1 - challenger.percent / 100, 6)}, second], None
    # A shadow's weight relative to the production variant's (1.0) is the share of requests copied to it.
    return [{**champion, "weight": 1.0}], second


def _check_serving_modes(spec: PlatformSpec, index: int, context: RealizeContext) -> None:
    """What SageMaker (or the platform's guardrails on it) cannot do with the endpoint's serving mode."""
    endpoint = spec.endpoints[index]
    location: Loc = ("endpoints", index)
    if endpoint.invocation.is_async and spec.aws.model_store_uri is not None:
        raise _error(
            (*location, "invocation", "result_retention_days"),
            "asynchronous results expire by a lifecycle rule of the platform's model store; with aws.model_store_uri "
            "the bucket is not this stack's, so the retention cannot be realized: remove aws.model_store_uri",
            endpoint.invocation.result_retention_days,
        )
    if not endpoint.multi_model:
        return
    if context.defaults.protected:
        raise _error(
            (*location, "multi_model"),
            f"a multi-model endpoint loads any archive under its prefix, which the registry cannot approve "
            f"version by version: refused in the protected environment {context.defaults.environment!r} "
            "(policy model-approval)",
            True,
        )
    if _monitored(spec, context):
        raise _error(
            (*location, "multi_model"),
            "SageMaker Model Monitor watches endpoints that host one model: turn monitoring off for this platform "
            "or serve one model",
            True,
        )


def _package_reference(spec: PlatformSpec, name: str) -> int | str | None:
    return spec.aws.approved_model_packages.get(name)


def _challenger_reference(spec: PlatformSpec, name: str) -> int | str | None:
    return spec.aws.approved_challenger_packages.get(name)


def _check_packages(spec: PlatformSpec, context: RealizeContext) -> None:
    names = [e.name for e in spec.endpoints]
    batches = [b.name for b in spec.batch]
    for key in spec.aws.approved_model_packages:
        if key not in names and key not in batches:
            raise _error(
                ("aws", "approved_model_packages", key),
                f"{key!r} is not an endpoint {names} or a batch entry {batches} of the spec",
            )
    challenged = [e.name for e in spec.endpoints if e.challenger is not None]
    for key in spec.aws.approved_challenger_packages:
        if key not in challenged:
            raise _error(
                ("aws", "approved_challenger_packages", key),
                f"{key!r} is not an endpoint with a challenger {challenged}",
            )
    if context.defaults.protected:
        for name in challenged:
            if name not in spec.aws.approved_challenger_packages:
                raise _error(
                    ("aws", "approved_challenger_packages", name),
                    f"the challenger of endpoint {name!r} serves an unregistered artifact in the protected environment "
                    f"{context.defaults.environment!r} (policy model-approval): set aws.approved_challenger_packages."
                    f"{name} to its approved version number in the registry (or a model package version ARN)",
                )
    if follows_latest_approved(spec, context.defaults):  # the registry's newest Approved package, at deploy time
        if spec.aws.approved_model_packages:
            key = next(iter(spec.aws.approved_model_packages))
            raise _error(
                ("aws", "approved_model_packages", key),
                "registry.approval.serve is latest_approved: endpoints follow the registry, remove the pinned version",
            )
        return
    if not context.defaults.protected:
        return
    for kind, name in [*(("endpoint", e.name) for e in spec.endpoints), *(("batch", b.name) for b in spec.batch)]:
        if name not in spec.aws.approved_model_packages:
            raise _error(
                ("aws", "approved_model_packages", name),
                f"{kind} {name!r} serves an unregistered artifact in the protected environment "
                f"{context.defaults.environment!r} (policy model-approval): set aws.approved_model_packages."
                f"{name} to the approved version number in the registry (or a model package version ARN)",
            )


# --- monitoring -----------------------------------------------------------------------------------------


def monitor_schedule(schedule: Schedule) -> str:
    """Model Monitor's hourly or daily UTC cron for the spec's drift schedule."""
    try:
        return model_monitor_cron(schedule)
    except ValueError as exc:
        raise _error(("monitoring", "drift", "schedule"), str(exc), schedule.cron) from None


def monitor_args(
    spec: PlatformSpec,
    index: int,
    *,
    key_arn: StrInput,
    store_base: StrInput,
    endpoint_name: StrInput,
    capture_uri: StrInput,
    alarm_actions: list[StrInput] | None = None,
    baseline_uri: StrInput | None = None,
) -> ModelMonitorArgs:
    """The drift monitor of endpoint ``index``: the spec's features, threshold and schedule.

    The baseline is ``monitoring.drift.baseline`` when set (kept as given), else ``baseline_uri``: the
    prefix the training pipeline's RefreshBaseline step writes after each registration.
    """
    drift = spec.monitoring.drift
    if drift is None:
        raise _error(("monitoring", "drift"), "drift monitoring is on: name the features to watch in monitoring.drift")
    baseline = drift.baseline or f"{spec.registry.model_name}/baseline"
    _check_s3(baseline, ("monitoring", "drift", "baseline"), "the drift baseline")
    prefix = _resolve(baseline.rstrip("/"), store_base) if drift.baseline or baseline_uri is None else baseline_uri
    monitor_schedule(drift.schedule)
    return _build(
        ModelMonitorArgs,
        {
            "kms_key_arn": key_arn,
            "endpoint_name": endpoint_name,
            "capture_s3_uri": capture_uri,
            "baseline_statistics_s3_uri": _resolve(STATISTICS_FILE, prefix),
            "baseline_constraints_s3_uri": _resolve(CONSTRAINTS_FILE, prefix),
            "schedule": {"cron": drift.schedule.cron, "time_zone": drift.schedule.time_zone},
            "instance_type": MONITOR_INSTANCE,
            "drift_features": list(drift.features),
            "drift_threshold": drift.threshold,
            "alarm_actions": alarm_actions or [],
            "analyzer_image_uri": spec.aws.analyzer_image_uri,
        },
        ("endpoints", index),
    )


# --- batch ----------------------------------------------------------------------------------------------


def batch_output(batch: BatchInferenceSpec) -> str:
    """Where a batch run writes: ``output``, else ``predictions/<name>/`` of the batch data bucket."""
    return batch.output if batch.output is not None else f"predictions/{batch.name}/"


def batch_args(
    spec: PlatformSpec,
    index: int,
    *,
    key_arn: StrInput,
    data_base: StrInput,
    store_base: StrInput,
    package_arn: StrInput | None,
) -> BatchTransformArgs:
    """The scheduled transform of ``batch[index]``: relative locations under ``data_base``, the artifact under
    ``store_base``; ``package_arn`` (an approved registry version) replaces the artifact when given."""
    batch = spec.batch[index]
    location: Loc = ("batch", index)
    image = _image(batch.model.serving, (*location, "model", "serving"), "batch serving")
    _check_s3(batch.model.artifact, (*location, "model", "artifact"), "the model artifact")
    for name, value in (("input", batch.input), ("output", batch_output(batch))):
        _check_s3(value, (*location, name), f"the batch {name}")
    try:
        eventbridge_cron(batch.schedule)
    except ValueError as exc:
        raise _error((*location, "schedule", "cron"), str(exc), batch.schedule.cron) from None
    return _build(
        BatchTransformArgs,
        {
            "kms_key_arn": key_arn,
            "image": image,
            "model_package_arn": package_arn,
            "model_data_url": None if package_arn is not None else _resolve(batch.model.artifact, store_base),
            "input_s3_uri": _resolve(batch.input, data_base),
            "output_s3_uri": _resolve(batch_output(batch), data_base),
            "record_format": batch.format.value,
            "instance_type": batch.compute.aws_instance_type(),
            "instance_count": batch.max_replicas,
            "max_runtime_seconds": batch.max_runtime_seconds,
            "schedule": batch.schedule,
        },
        location,
    )


def _batch(
    parent: pulumi.Resource, spec: PlatformSpec, context: RealizeContext, built: _Built, store_base: StrInput
) -> None:
    """``batch``: the KMS-encrypted batch data bucket and one scheduled transform per entry (``built.batches``)."""
    if not spec.batch:
        return
    assert built.registry is not None
    built.batch_data = SecureBucket(
        context.child_name("batch-data"),
        SecureBucketArgs(
            purpose="batch-data",
            kms_key_arn=built.key.arn,
            transition_to_glacier_ir_days=spec.lifecycle.archive_after_days,
        ),
        opts=context.opts(parent),
    )
    data_base = concat("s3://", built.batch_data.bucket_name)
    realized: dict[str, BatchTransform] = {}
    for index, batch in enumerate(spec.batch):
        reference = _package_reference(spec, batch.name)
        if follows_latest_approved(spec, context.defaults):
            reference = latest_sagemaker_package(context, batch.name, built.registry.physical_group_name)
            if reference is None:
                continue  # no approved version yet: warned, not scheduled (protected environments raised)
        args = batch_args(
            spec,
            index,
            key_arn=built.key.arn,
            data_base=data_base,
            store_base=store_base,
            package_arn=_package_arn(reference, built.registry, parent),
        )
        realized[batch.name] = BatchTransform(
            context.child_name(f"batch-{batch.name}"), args, opts=context.opts(parent)
        )
    built.batches = realized


# --- budget ---------------------------------------------------------------------------------------------


def budget_args(spec: PlatformSpec, key_arn: StrInput, actions: SeverityActions | None = None) -> BudgetArgs:
    """Actual-spend alerts at each threshold and a forecast alert at the highest, to ``alerts.emails``.

    With ``actions`` (the platform's alert topics), alerts below 100 % go to the warning topic and
    alerts at 100 % or more (actual or forecast) to the critical topic; those topics already e-mail
    ``alerts.emails``, so Budgets does not e-mail them a second time.
    """
    thresholds = spec.budget.alert_at_percent
    if len(thresholds) + 1 > MAX_BUDGET_NOTIFICATIONS:
        raise _error(
            ("budget", "alert_at_percent"),
            f"AWS Budgets sends at most {MAX_BUDGET_NOTIFICATIONS} notifications: list at most "
            f"{MAX_BUDGET_NOTIFICATIONS - 1} thresholds (each on actual spend, plus a forecast at the highest)",
            thresholds,
        )
    if len(spec.alerts.emails) > MAX_BUDGET_SUBSCRIBERS:
        raise _error(("alerts", "emails"), f"AWS Budgets notifies at most {MAX_BUDGET_SUBSCRIBERS} e-mail subscribers")
    alerts = [{"threshold_percent": p, "kind": "ACTUAL"} for p in thresholds]
    alerts.append({"threshold_percent": thresholds[-1], "kind": "FORECASTED"})
    return _build(
        BudgetArgs,
        {
            "kms_key_arn": key_arn,
            "monthly_limit_usd": spec.budget.limit_for(Cloud.AWS),
            "alerts": alerts,
            "subscriber_emails": list(spec.alerts.emails),
            **(
                {
                    "warning_topic_arn": actions.warning[0],
                    "critical_topic_arn": actions.critical[0],
                    "email_routed_alerts": False,
                }
                if actions is not None and actions.warning and actions.critical
                else {}
            ),
        },
        ("budget",),
    )


# --- the contract ---------------------------------------------------------------------------------------


def _reason(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    return f"{where}: {first['msg']}" if where else first["msg"]


def _build(model: type[ArgsT], values: Mapping[str, Any], location: Loc) -> ArgsT:
    """``model`` from ``values``; a refusal names the spec's section and the AWS field that failed."""
    try:
        return model.model_validate(dict(values))
    except ValidationError as exc:
        raise _error(location, f"AWS cannot realize this: {_reason(exc)}") from None


def _monitored(spec: PlatformSpec, context: RealizeContext) -> bool:
    return bool(spec.endpoints) and monitoring_enabled(spec.monitoring, context.defaults)


def _refreshes_baseline(spec: PlatformSpec, monitored: bool) -> bool:
    """The pipeline writes the monitors' baseline: drift is monitored, there is training, no fixed baseline."""
    drift = spec.monitoring.drift
    return monitored and spec.training is not None and drift is not None and drift.baseline is None


def check(spec: PlatformSpec, context: RealizeContext) -> None:
    """Raise a field error (path from the spec's root) for anything AWS cannot realize; registers nothing."""
    refuse_unrealized(spec, Cloud.AWS)
    check_alerts(
        spec.alerts,
        required=context.defaults.protected,
        environment=context.defaults.environment,
        model=PlatformSpec,
        location=("alerts",),
    )
    check_deploy_token(effective_approval(spec.registry, context.defaults).deploy_webhook)
    for index in range(len(spec.endpoints)):
        _check_serving_modes(spec, index, context)
    _check_packages(spec, context)
    store = _store_base(spec, None)
    feature_store_args(spec, _KEY_PLACEHOLDER)
    registry = registry_args(spec, context, _KEY_PLACEHOLDER)
    tracking_args(spec, _KEY_PLACEHOLDER, "placeholder")
    monitored = _monitored(spec, context)
    training_args(
        spec,
        context,
        key_arn=_KEY_PLACEHOLDER,
        group_name="placeholder",
        approval_status="PendingManualApproval" if registry.approval_mode == "manual" else "Approved",
        artifact_bucket=None,
        artifact_prefix=None,
        retrain_on_drift=monitored and spec.training is not None and spec.training.retrain_on_drift,
        refresh_baseline=_refreshes_baseline(spec, monitored),
    )
    for index, endpoint in enumerate(spec.endpoints):
        args = endpoint_args(
            spec,
            index,
            context,
            key_arn=_KEY_PLACEHOLDER,
            store_base=store,
            package_arn=_PACKAGE_PLACEHOLDER
            if endpoint.name in spec.aws.approved_model_packages or follows_latest_approved(spec, context.defaults)
            else None,
            challenger_package_arn=_PACKAGE_PLACEHOLDER
            if endpoint.name in spec.aws.approved_challenger_packages
            else None,
        )
        if monitored:
            if args.data_capture is None:
                raise _error(
                    ("endpoints", index, "data_capture"),
                    "drift monitoring reads the endpoint's captured requests: turn data capture on",
                )
            monitor_args(
                spec,
                index,
                key_arn=_KEY_PLACEHOLDER,
                store_base=store,
                endpoint_name=f"{endpoint.name}-placeholder",
                capture_uri=f"{_STORE_PLACEHOLDER}/capture",
            )
    for index, batch in enumerate(spec.batch):
        pinned = batch.name in spec.aws.approved_model_packages or follows_latest_approved(spec, context.defaults)
        batch_args(
            spec,
            index,
            key_arn=_KEY_PLACEHOLDER,
            data_base=_STORE_PLACEHOLDER,
            store_base=store,
            package_arn=_PACKAGE_PLACEHOLDER if pinned else None,
        )
    budget_args(spec, _KEY_PLACEHOLDER)
    airflow_args(spec, _KEY_PLACEHOLDER, "placeholder", _PIPELINE_PLACEHOLDER)
    _check_access(spec)
    if monitored:  # drift jobs, and the baseline step (only ever with monitoring)
        _check_analyzer_image(spec, context)


def _check_analyzer_image(spec: PlatformSpec, context: RealizeContext) -> None:
    """Drift jobs and the baseline step need a Model Monitor image in the stack's region, or the spec's own.

    A platform given an AWS provider of its own runs the image of that provider's region (checked at deploy).
    """
    region = region_without_image(spec.aws.analyzer_image_uri, context.platform_opts)
    if region is not None:
        raise _error(
            ("aws", "analyzer_image_uri"),
            f"drift monitoring runs SageMaker's Model Monitor analyzer, and SageMaker publishes no image of it in "
            f"{region}: copy the image to your ECR there and set aws.analyzer_image_uri to the copy",
        )


def _check_access(spec: PlatformSpec) -> None:
    """Persona groups need the identity provider their roles trust (and an OIDC provider its audience)."""
    named = [persona for persona in PERSONAS if getattr(spec.access, persona)]
    provider = spec.aws.identity_provider_arn
    if named and provider is None:
        raise _error(
            ("aws", "identity_provider_arn"),
            f"access names groups for {', '.join(named)}: their roles are assumed through an IAM SAML or OIDC "
            "provider; set aws.identity_provider_arn (arn:aws:iam::ACCOUNT:saml-provider/NAME)",
        )
    if provider is not None and ":oidc-provider/" in provider and spec.aws.identity_provider_audience is None:
        raise _error(
            ("aws", "identity_provider_audience"),
            "an OIDC provider's roles accept one audience: set the client id (aud) the roles trust",
        )


@dataclass
class _Built:
    """The realized components, for outputs and wiring."""

    key: PlatformKey
    store: SecureBucket | None = None
    features: FeatureStore | None = None
    registry: ModelRegistry | None = None
    training: TrainingPipeline | None = None
    tracking: TrackingServer | None = None
    budget: Budget | None = None
    batch_data: SecureBucket | None = None
    batches: dict[str, BatchTransform] = field(default_factory=dict)


def _package_arn(reference: int | str | None, registry: ModelRegistry, parent: pulumi.Resource) -> StrInput | None:
    """The approved version's ARN: as given, or version N of the registry's group in its account and region."""
    if reference is None or isinstance(reference, str):
        return reference
    invoke = pulumi.InvokeOutputOptions(parent=parent)
    # SageMaker lowercases the group name inside model package ARNs.
    group = registry.physical_group_name.lower()
    return arn("sagemaker", f"model-package/{group}/{reference}", invoke)


def _publishing_rules(
    context: RealizeContext, parent: pulumi.Resource, *, batch: bool = False
) -> dict[Severity, list[StrInput]]:
    """The EventBridge rules that may publish to each alert topic: rollbacks (critical), failed training and (with
    ``batch``) failed batch runs (warning)."""
    invoke = pulumi.InvokeOutputOptions(parent=parent)

    def arn(rule: str) -> StrInput:
        return event_rule_arn(context.platform.name(context.child_name(rule), naming.EVENTBRIDGE_RULE), invoke)

    warning = [arn(FAILED_RUNS_RULE), *([arn(BATCH_FAILED_RULE)] if batch else [])]
    return {"critical": [arn(ROLLBACK_RULE)], "warning": warning}


def _notify_failures(
    parent: pulumi.Resource,
    context: RealizeContext,
    rule: str,
    *,
    description: str,
    pattern: dict[str, Any],
    topics: list[StrInput],
) -> None:
    """An EventBridge rule ``rule`` publishing the events that match ``pattern`` to ``topics`` (warnings)."""
    rule_name = context.child_name(rule)
    event_rule = aws.cloudwatch.EventRule(
        rule_name,
        name=context.platform.name(rule_name, naming.EVENTBRIDGE_RULE),
        description=description,
        event_pattern=json_text(pattern),
        opts=context.opts(parent),
    )
    for index, topic in enumerate(topics):
        aws.cloudwatch.EventTarget(
            f"{rule_name}-{index}",
            rule=event_rule.name,
            arn=topic,
            opts=context.opts(parent),
        )


def _notify_failed_runs(
    parent: pulumi.Resource, context: RealizeContext, training: TrainingPipeline, topics: list[StrInput]
) -> None:
    """A failed (or stopped) pipeline execution is a warning: EventBridge publishes it to the warning topics."""
    _notify_failures(
        parent,
        context,
        FAILED_RUNS_RULE,
        description="A run of the training pipeline failed or was stopped: a warning alert",
        pattern={
            "source": ["aws.sagemaker"],
            "detail-type": ["SageMaker Model Building Pipeline Execution Status Change"],
            "detail": {
                "pipelineArn": [training.pipeline_arn],
                "currentPipelineExecutionStatus": ["Failed", "Stopped"],
            },
        },
        topics=topics,
    )


def _notify_failed_batch_runs(
    parent: pulumi.Resource, context: RealizeContext, batches: list[BatchTransform], topics: list[StrInput]
) -> None:
    """A scheduled batch run that failed, was stopped at ``max_runtime_seconds`` or could not start is a warning.

    The supervisor's execution fails in each case (its pipeline run Failed or Stopped, the deadline, a start or
    poll that failed after its retries), so one rule on the supervisors' executions reports each failed run once.
    """
    _notify_failures(
        parent,
        context,
        BATCH_FAILED_RULE,
        description="A scheduled batch run failed, ran past max_runtime_seconds or did not start: a warning alert",
        pattern={
            "source": ["aws.states"],
            "detail-type": ["Step Functions Execution Status Change"],
            "detail": {
                "stateMachineArn": [batch.state_machine_arn for batch in batches],
                "status": ["FAILED", "TIMED_OUT", "ABORTED"],
            },
        },
        topics=topics,
    )


def _operations(
    parent: pulumi.Resource,
    spec: PlatformSpec,
    context: RealizeContext,
    *,
    key_arn: StrInput,
    actions: SeverityActions,
    endpoints: list[tuple[Endpoint, ModelMonitor | None]],
) -> tuple[Budget, OperationsDashboard | None]:
    """What tells people how the platform runs: rollback pages, the budget by severity, the dashboard."""
    # A rollback of a gradual deployment is critical: the on-call learns the new model was rolled back.
    rolled_back = [endpoint.physical_name for endpoint, _ in endpoints if endpoint.rollout_strategy is not None]
    if rolled_back and actions.critical:
        page_on_rollback(
            context.child_name(ROLLBACK_RULE),
            platform=context.platform,
            endpoint_names=rolled_back,
            topic_arns=actions.critical,
            opts=context.opts(parent),
        )
    budget = Budget(
        context.child_name("budget"),
        budget_args(spec, key_arn, actions if actions else None),
        opts=context.opts(parent),
    )
    dashboard = None
    threshold = spec.budget.anomaly_alert_usd
    if threshold is not None and actions.warning:  # an anomaly is a warning, routed like every other one
        CostAnomalyAlerts(
            context.child_name("cost-anomaly"),
            CostAnomalyAlertsArgs(topic_arn=actions.warning[0], threshold_usd=threshold),
            opts=context.opts(parent),
        )
    if endpoints:  # something to watch: the endpoints' traffic, errors, latency and drift, next to the cost
        dashboard = OperationsDashboard(
            context.child_name("dashboard"),
            _dashboard(endpoints, budget.monthly_limit_usd),
            opts=context.opts(parent),
        )
    return budget, dashboard


def _dashboard(endpoints: list[tuple[Endpoint, ModelMonitor | None]], monthly_limit_usd: float) -> dict[str, Any]:
    """The operations dashboard's args: each endpoint's variants, alarm thresholds and drift metrics, and cost."""
    return {
        "endpoints": [
            {
                "endpoint_name": endpoint.physical_name,
                "variants": [variant.name for variant in endpoint.args.variants],
                "p95_latency_ms": endpoint.args.alarms.p95_latency_ms,
                "drift": {
                    "schedule_name": monitor.schedule_name,
                    "features": list(monitor.args.drift_features),
                    "threshold": monitor.args.drift_threshold,
                }
                if monitor is not None and monitor.args.drift_features
                else None,
            }
            for endpoint, monitor in endpoints
        ],
        "monthly_limit_usd": monthly_limit_usd,
    }


def _tracking(
    spec: PlatformSpec,
    context: RealizeContext,
    parent: pulumi.Resource,
    key_arn: StrInput,
    registry: ModelRegistry,
) -> TrackingServer | None:
    """The managed MLflow server of ``tracking``, registering into the registry's group; None without one."""
    args = tracking_args(spec, key_arn, registry.physical_group_name)
    return TrackingServer(context.child_name("tracking"), args, opts=context.opts(parent)) if args else None


def realize(parent: pulumi.ComponentResource, spec: PlatformSpec, context: RealizeContext) -> dict[str, Any]:
    """Create the platform's AWS components under ``parent``; returns the camelCase outputs."""
    opts: Callable[[], pulumi.ResourceOptions] = lambda: context.opts(parent)  # noqa: E731
    name = context.child_name
    audited = audit_enabled(spec.audit, context.defaults)
    # CloudTrail encrypts the audit log files with the platform key: only where a trail writes them.
    key_args = {"extra_key_users": [CLOUDTRAIL_PRINCIPAL]} if audited else None
    built = _Built(key=PlatformKey(name("key"), key_args, opts=opts()))
    key_arn = built.key.arn

    artifact_bucket: tuple[StrInput, StrInput] | None = None
    artifact_prefix: str | None = None
    # The model store holds artifacts, pipeline outputs and baselines: only when something reads or writes them.
    if spec.aws.model_store_uri is None and (spec.training is not None or spec.endpoints or spec.batch):
        built.store = SecureBucket(
            name("model-store"),
            # Archived, never expired: a registered version may reference any artifact (spec/lifecycle.py);
            # only asynchronous results expire, after their retention.
            SecureBucketArgs(
                purpose="model-store",
                kms_key_arn=key_arn,
                expire_prefixes=async_result_expiry(spec),
                transition_to_glacier_ir_days=spec.lifecycle.archive_after_days,
            ),
            opts=opts(),
        )
        artifact_bucket = (built.store.bucket_name, built.store.arn)
    elif isinstance(spec.aws.model_store_uri, str):
        bucket, _, prefix = spec.aws.model_store_uri.removeprefix("s3://").partition("/")
        artifact_bucket = (bucket, arn("s3", bucket, pulumi.InvokeOutputOptions(parent=parent), region="", account=""))
        artifact_prefix = "/".join(filter(None, (prefix.strip("/"), "pipelines", name("training"))))
    store_base = _store_base(spec, built.store.bucket_name if built.store else None)

    features = feature_store_args(spec, key_arn)
    if features is not None:
        built.features = FeatureStore(name("features"), features, opts=opts())

    built.registry = ModelRegistry(name("registry"), registry_args(spec, context, key_arn), opts=opts())
    webhook = effective_approval(spec.registry, context.defaults).deploy_webhook
    if webhook is not None:  # the approval event starts the deployment (docs/approval-to-rollout.md)
        deploy_on_approval(
            name("deploy-on-approval"), webhook=webhook, rule_name=built.registry.rule.name, kms_key_arn=key_arn,
            platform=context.platform, opts=opts(),
        )  # fmt: skip
    built.tracking = _tracking(spec, context, parent, key_arn, built.registry)
    monitored = _monitored(spec, context)
    pipeline = training_args(
        spec,
        context,
        key_arn=key_arn,
        group_name=built.registry.group_name,
        approval_status=built.registry.initial_approval_status,
        artifact_bucket=artifact_bucket,
        artifact_prefix=artifact_prefix,
        retrain_on_drift=monitored and spec.training is not None and spec.training.retrain_on_drift,
        refresh_baseline=_refreshes_baseline(spec, monitored),
        tracking_server_arn=built.tracking.server_arn if built.tracking else None,
    )
    if pipeline is not None:
        built.training = TrainingPipeline(name("training"), pipeline, opts=opts())
        realize_airflow(parent, spec, context, key_arn=key_arn, training=built.training)

    # Every alarm reaches the receivers of its severity (alerts.receivers): critical pages PagerDuty, warning
    # posts to Slack, both are e-mailed. The warning topic keeps the URN of the platform's first alert topic.
    actions = SeverityActions()
    _batch(parent, spec, context, built, store_base)
    batches = built.batches
    if spec.endpoints or built.training is not None or batches:
        routed = create_alert_routing(
            spec.alerts,
            topic_names={"critical": name("alerts-critical"), "warning": name("alerts")},
            slack_name=name("alerts-slack"),
            kms_key_arn=key_arn,
            opts=opts,
            event_rule_arns=_publishing_rules(context, parent, batch=bool(batches)),
        )
        actions = routed.actions
        if built.training is not None:
            _notify_failed_runs(parent, context, built.training, actions.warning)
        if batches:
            _notify_failed_batch_runs(parent, context, list(batches.values()), actions.warning)
    endpoint_names, endpoints = _endpoints(
        parent, spec, context, built, store_base=store_base, actions=actions, monitored=monitored
    )
    built.budget, dashboard = _operations(parent, spec, context, key_arn=key_arn, actions=actions, endpoints=endpoints)
    roles = _access(parent, spec, context, built, endpoints=endpoints, dashboard=dashboard)
    trail = _audit(parent, spec, context, built) if audited else None
    return {
        "keyArn": key_arn,
        "featureStore": built.features.feature_group_names if built.features else None,
        "pipelineName": built.training.pipeline_name if built.training else None,
        "registryName": built.registry.group_name,
        "endpointNames": endpoint_names,
        "budgetName": built.budget.budget_name,
        "personaRoleArns": roles.role_arns if roles else None,
        "auditTrailArn": trail.trail_arn if trail else None,
        "trackingServerArn": built.tracking.server_arn if built.tracking else None,
        "batchPipelineNames": {name: batch.pipeline_name for name, batch in batches.items()} or None,
    }


def _endpoints(
    parent: pulumi.Resource,
    spec: PlatformSpec,
    context: RealizeContext,
    built: _Built,
    *,
    store_base: StrInput,
    actions: SeverityActions,
    monitored: bool,
) -> tuple[dict[str, pulumi.Output[str]], list[tuple[Endpoint, ModelMonitor | None]]]:
    """Each spec endpoint's Endpoint (and its drift monitor when monitored); names by spec endpoint name."""
    assert built.registry is not None
    endpoint_names: dict[str, pulumi.Output[str]] = {}
    endpoints: list[tuple[Endpoint, ModelMonitor | None]] = []
    for index, spec_endpoint in enumerate(spec.endpoints):
        reference = _package_reference(spec, spec_endpoint.name)
        if follows_latest_approved(spec, context.defaults):
            reference = latest_sagemaker_package(context, spec_endpoint.name, built.registry.physical_group_name)
            if reference is None:
                continue  # no approved version yet: warned, not deployed (protected environments raised)
        package = _package_arn(reference, built.registry, parent)
        challenger_package = _package_arn(_challenger_reference(spec, spec_endpoint.name), built.registry, parent)
        args = endpoint_args(
            spec,
            index,
            context,
            key_arn=built.key.arn,
            store_base=store_base,
            package_arn=package,
            actions=actions,
            challenger_package_arn=challenger_package,
        )
        endpoint = Endpoint(context.child_name(spec_endpoint.name), args, opts=context.opts(parent))
        endpoint_names[spec_endpoint.name] = endpoint.endpoint_name
        monitor = (
            ModelMonitor(
                context.child_name(f"{spec_endpoint.name}-monitor"),
                monitor_args(
                    spec,
                    index,
                    key_arn=built.key.arn,
                    store_base=store_base,
                    endpoint_name=endpoint.endpoint_name,
                    capture_uri=endpoint.capture_s3_uri,
                    alarm_actions=actions.warning,
                    baseline_uri=built.training.baseline_s3_uri if built.training else None,
                ),
                opts=context.opts(parent),
            )
            if monitored and endpoint.capture_s3_uri is not None
            else None
        )
        endpoints.append((endpoint, monitor))

    return endpoint_names, endpoints


def _audit(parent: pulumi.Resource, spec: PlatformSpec, context: RealizeContext, built: _Built) -> AuditTrail:
    """CloudTrail of the account's API calls, with data events of the platform's buckets and SageMaker resources."""
    features = built.features.offline_bucket if built.features else None
    buckets = [b.arn for b in (built.store, features, built.batch_data) if b]
    return AuditTrail(
        context.child_name("audit"),
        {
            "kms_key_arn": built.key.arn,
            "data_bucket_arns": buckets,
            "archive_after_days": spec.aws.audit_archive_after_days,
        },
        opts=context.opts(parent),
    )


def _access(
    parent: pulumi.Resource,
    spec: PlatformSpec,
    context: RealizeContext,
    built: _Built,
    *,
    endpoints: list[tuple[Endpoint, ModelMonitor | None]],
    dashboard: OperationsDashboard | None,
) -> PersonaRoles | None:
    """The personas' federated roles, scoped to this platform's resources (none without groups)."""
    access = spec.access
    if not any(getattr(access, persona) for persona in PERSONAS) or spec.aws.identity_provider_arn is None:
        return None
    assert built.registry is not None
    alarms: list[StrInput] = []
    for endpoint, monitor in endpoints:
        alarms += endpoint.alarm_arns
        if monitor is not None:
            alarms += monitor.drift_alarm_arns
    return PersonaRoles(
        context.child_name("personas"),
        {
            "identity_provider_arn": spec.aws.identity_provider_arn,
            "identity_provider_audience": spec.aws.identity_provider_audience,
            **{persona: getattr(access, persona) for persona in PERSONAS},
            "kms_key_arn": built.key.arn,
            "model_package_group_name": built.registry.physical_group_name,
            "feature_group_names": list(built.features.feature_group_names.values()) if built.features else [],
            "feature_bucket_arn": built.features.bucket_arn if built.features else None,
            "model_store_bucket_arn": built.store.arn if built.store else None,
            "pipeline_arn": built.training.pipeline_arn if built.training else None,
            "batch_pipeline_arns": [batch.pipeline_arn for batch in built.batches.values()],
            "endpoint_names": [endpoint.endpoint_name for endpoint, _ in endpoints],
            "alarm_arns": alarms,
            "dashboard_name": dashboard.dashboard_name if dashboard else None,
            "budget_name": built.budget.budget_name if built.budget else None,
        },
        opts=context.opts(parent),
    )


__all__ = [
    "FEATURE_TYPES",
    "batch_args",
    "batch_output",
    "budget_args",
    "check",
    "drift_alarm_pattern",
    "endpoint_args",
    "feature_store_args",
    "monitor_args",
    "monitor_schedule",
    "off_hours_args",
    "realize",
    "registry_args",
    "tracking_args",
    "training_args",
    "training_schedule",
]
