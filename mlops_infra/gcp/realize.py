"""A cloud-neutral :class:`PlatformSpec` realized on GCP Vertex AI (contract: ``mlops_infra.realization``).

What each spec section becomes:

- the platform key: one Cloud KMS key for ``gcp.region``; every component encrypts with it (CMEK)
  and waits for the service agents' grants;
- ``feature_store``: a CMEK BigQuery dataset with one partitioned table per group (feature types
  mapped to BigQuery types), Vertex feature groups, and a private (PSC) online store with one
  feature view per online group;
- ``registry``: models bucket, serving-image repository and one Vertex model per distinct
  endpoint model; the approved label is the version alias endpoints deploy. Automatic approval
  sets it at registration; manual approval leaves it to a reviewer (``challenger`` until then);
- ``training``: the built-in kfp template (the metric gate, in its direction, decides what is
  registered), the machine's vCPU, memory and accelerators as train-step limits (Vertex picks the
  machine that fits), and the spec ``Schedule`` on Cloud Scheduler;
- ``endpoints``: private Vertex endpoints (PSC, or VPC peering with ``gcp.network``), replicas
  from ``effective_scaling`` (Vertex cannot scale to zero), the rollout as canary percentages
  and bake time with metric rollback, request logging from ``effective_data_capture``, alerts on
  error rate and p95;
- ``endpoints[].challenger`` (A/B): the challenger's own Vertex model deployed on the same endpoint
  (``challenger`` key, its own compute or the endpoint's), the split ``{primary: 100 - percent, challenger:
  percent}`` kept through the champion's canaries. Shadow, async invocation, multi-model endpoints and
  scale to zero are refused by field (``spec.support.WHY_NOT`` and :data:`SCALE_TO_ZERO_WHY` say why);
- ``batch``: a CMEK batch data bucket (relative inputs and outputs live there; outputs default to
  ``predictions/<name>/``), each entry's model registered like an endpoint's, and per entry a
  :class:`~mlops_infra.gcp.batch_prediction.BatchPrediction`: Cloud Scheduler -> CMEK workflow ->
  CMEK batch prediction job on the approved version, cancelled at ``max_runtime_seconds``;
- ``alerts``: notification channels by severity (:mod:`mlops_infra.gcp.notification_channels`):
  PagerDuty and Slack (keys from the stack's secret config) and one e-mail channel per address. Critical
  alerts (endpoint error rate, budget at 100 %) reach the critical receivers, warnings (latency, drift,
  failed retraining, budget thresholds) the warning ones; a protected environment needs a receiver;
- ``budget``: a Cloud Billing budget on the project, actual and forecast spend at each threshold, to the
  e-mail channels (the only kind budgets notify) and to a CMEK Pub/Sub topic whose workflow routes a crossed
  threshold by severity to every receiver (:mod:`mlops_infra.gcp.budget_alerts`);
- a Cloud Monitoring dashboard (:mod:`mlops_infra.gcp.dashboard`): per endpoint predictions, errors, error
  rate and p95 latency, drift detections, and the budget (as text: billing has no Monitoring metric);
- ``access``: each persona's least-privilege IAM bindings (:mod:`mlops_infra.gcp.access`);
- drift: :mod:`mlops_infra.gcp.drift`, a scheduled workflow that measures drift in BigQuery and
  starts the pipeline (when monitoring is on and ``training.retrain_on_drift``).
"""

from __future__ import annotations

import re
from typing import Any

import pulumi

from mlops_infra.conventions import naming
from mlops_infra.gcp.access import PERSONA_ROLES, PlatformAccess
from mlops_infra.gcp.airflow_realization import airflow_orchestrated, realize_airflow
from mlops_infra.gcp.audit_logs import AuditLogs
from mlops_infra.gcp.batch_prediction import BatchPrediction
from mlops_infra.gcp.budget import Budget
from mlops_infra.gcp.budget_alerts import BudgetAlerts
from mlops_infra.gcp.dashboard import operations_dashboard
from mlops_infra.gcp.deploy_webhook import DeployOnApproval
from mlops_infra.gcp.drift import DriftRetraining, monitor_interval_hours
from mlops_infra.gcp.endpoint import Endpoint
from mlops_infra.gcp.endpoint_alerts import EndpointAlerts
from mlops_infra.gcp.feature_store import FeatureStore
from mlops_infra.gcp.iam import check_principal
from mlops_infra.gcp.model_registry import ModelRegistry
from mlops_infra.gcp.notification_channels import (
    SeverityChannels,
    check_secrets,
    severity_channels,
)
from mlops_infra.gcp.off_hours import OffHours
from mlops_infra.gcp.platform_key import PlatformKey, adopt_shared_key, registered_shared_key
from mlops_infra.gcp.project import project_id
from mlops_infra.gcp.secure_bucket import SecureBucket
from mlops_infra.gcp.tensorboard import ExperimentTracking
from mlops_infra.gcp.training_alerts import training_failure_policy
from mlops_infra.gcp.training_pipeline import TrainingPipeline
from mlops_infra.gcp.validation import VERSION_ALIAS_PATTERN
from mlops_infra.outputs import concat
from mlops_infra.realization import RealizeContext
from mlops_infra.registry import follows_latest_approved, latest_vertex_version
from mlops_infra.registry.deploy_token import check_deploy_token
from mlops_infra.spec.approval import ApprovalMode
from mlops_infra.spec.base import field_error
from mlops_infra.spec.batch import BatchFormat, BatchInferenceSpec
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
from mlops_infra.spec.scaling import ScalingMetric
from mlops_infra.spec.support import refuse_unrealized, refuse_unrealized_off_hours
from mlops_infra.spec.training import TrainingSpec
from mlops_infra.spec.types import has_digest, uri_scheme

TITLE = "PlatformSpec"
CPU_UTILIZATION = "aiplatform.googleapis.com/prediction/online/cpu/utilization"
CHALLENGER_ALIAS = "challenger"
PRIMARY_KEY = "primary"
CHALLENGER_KEY = "challenger"

BIGQUERY_TYPES: dict[FeatureType, str] = {
    FeatureType.STRING: "STRING",
    FeatureType.INT64: "INT64",
    FeatureType.FLOAT64: "FLOAT64",
    FeatureType.BOOL: "BOOL",
    FeatureType.TIMESTAMP: "TIMESTAMP",
}
"""Spec feature type -> BigQuery column type of the offline store."""

# Parameters of the built-in template a spec may set; the others are wired by the realization.
TEMPLATE_PARAMETERS = frozenset({"source_uri", "parent_model", "serving_image", "model_alias"})
WIRED_PARAMETERS = frozenset({"kms_key_name", "metric_name", "metric_threshold"})

_MODEL_NAME_MAX = 41

SCALE_TO_ZERO_WHY = (
    "Vertex AI's scale to zero for dedicated endpoints (DedicatedResources.scaleToZeroSpec) is a preview in the "
    "v1beta1 API only; the v1 API mlops-infra deploys with requires minReplicaCount >= 1"
)


# --- check ---------------------------------------------------------------------------------------


def check(spec: PlatformSpec, context: RealizeContext) -> None:
    """Refuse, naming the field, what GCP cannot realize. Registers nothing."""
    refuse_unrealized(spec, Cloud.GCP)
    refuse_unrealized_off_hours(spec, Cloud.GCP, context.defaults.environment)
    defaults = context.defaults
    if spec.gcp.billing_account is None:
        raise field_error(
            TITLE,
            ("gcp", "billing_account"),
            "the GCP budget needs the Cloud Billing account id (XXXXXX-XXXXXX-XXXXXX) it watches",
        )
    approval = effective_approval(spec.registry, defaults)
    label = approval.approved_label
    if label == "default" or not re.fullmatch(VERSION_ALIAS_PATTERN, label):
        raise field_error(
            TITLE,
            ("registry", "approval", "approved_label"),
            f"{label!r} is not a Vertex version alias (2-128 characters, ends with a letter or digit, not 'default')",
            label,
        )
    if spec.feature_store is not None:
        for index, group in enumerate(spec.feature_store.feature_groups):
            if not _value_features(group):
                raise field_error(
                    TITLE,
                    ("feature_store", "feature_groups", index, "features"),
                    "a Vertex feature group needs a feature besides the entity key and the event time",
                )
    if spec.training is not None:
        _check_training(spec, spec.training, context)
    _check_off_hours(spec, context)
    _check_drift(spec, context)
    _check_access(spec)
    for index, endpoint in enumerate(spec.endpoints):
        _check_endpoint(spec, index, endpoint, context)
    for index, batch in enumerate(spec.batch):
        _check_batch(spec, index, batch, context)
    if defaults.protected and not spec.alerts.has_receiver:
        raise field_error(
            TITLE,
            ("alerts",),
            f"{defaults.environment} is a protected environment: its alerts must reach a person "
            "(set alerts.emails, alerts.pagerduty or alerts.slack)",
        )
    check_secrets(spec.alerts)
    check_deploy_token(approval.deploy_webhook)


def _image_path(images: Images, prefix: tuple[str | int, ...]) -> tuple[str | int, ...]:
    return (*prefix, "per_cloud", "gcp") if Cloud.GCP in images.per_cloud else (*prefix, "image")


def _check_image(images: Images, prefix: tuple[str | int, ...], what: str, context: RealizeContext) -> None:
    """GCP needs an image; protected environments need it pinned by digest (a tag can be re-pointed)."""
    image = images.for_cloud(Cloud.GCP)
    if image is None:
        raise field_error(TITLE, prefix, f"names no {what} image for gcp (set image or per_cloud.gcp)")
    if context.defaults.protected and not has_digest(image):
        raise field_error(
            TITLE,
            _image_path(images, prefix),
            f"{context.defaults.environment} runs only digest-pinned images (image@sha256:<64 hex>), got {image!r}",
            image,
        )


def _check_training(spec: PlatformSpec, training: TrainingSpec, context: RealizeContext) -> None:
    _check_image(training.image, ("training", "image"), "training", context)
    for name in training.parameters:
        if name in WIRED_PARAMETERS or name not in TEMPLATE_PARAMETERS:
            raise field_error(
                TITLE,
                ("training", "parameters", name),
                f"the GCP training template takes {sorted(TEMPLATE_PARAMETERS)} "
                f"({sorted(WIRED_PARAMETERS)} come from the spec)",
            )
    if spec.feature_store is None and "source_uri" not in training.parameters:
        raise field_error(
            TITLE,
            ("training", "parameters", "source_uri"),
            "with no feature store, the training data's bq:// or gs:// URI must be given",
        )
    if not spec.endpoints and "serving_image" not in training.parameters:
        raise field_error(
            TITLE,
            ("training", "parameters", "serving_image"),
            "with no endpoint, the serving image registered with each trained model must be given",
        )


def _check_endpoint(spec: PlatformSpec, index: int, endpoint: EndpointSpec, context: RealizeContext) -> None:
    path: tuple[str | int, ...] = ("endpoints", index)
    _check_image(endpoint.model.serving, (*path, "model", "serving"), "serving", context)
    _check_model_artifact(endpoint.model.artifact, (*path, "model", "artifact"))
    if len(_registered_model_name(spec, endpoint)) > _MODEL_NAME_MAX:
        raise field_error(
            TITLE,
            (*path, "name"),
            f"registry.model_name and the endpoint name together exceed {_MODEL_NAME_MAX} characters on Vertex",
            endpoint.name,
        )
    if endpoint.challenger is not None:
        _check_challenger(spec, path, endpoint, context)
    if endpoint.scaling is not None:
        if endpoint.scaling.min_replicas < 1:
            raise field_error(
                TITLE,
                (*path, "scaling", "min_replicas"),
                f"Vertex AI endpoints cannot scale to zero here: min_replicas must be at least 1 ({SCALE_TO_ZERO_WHY})",
                endpoint.scaling.min_replicas,
            )
        if endpoint.scaling.target.metric is not ScalingMetric.CPU_PERCENT:
            raise field_error(
                TITLE,
                (*path, "scaling", "target", "metric"),
                f"Vertex AI autoscaling is realized on cpu_percent only, not {endpoint.scaling.target.metric.value}",
                endpoint.scaling.target.metric.value,
            )
    if endpoint.allow_public_access and (spec.gcp.network is not None or spec.gcp.psc_project_allowlist):
        raise field_error(
            TITLE,
            (*path, "allow_public_access"),
            "a public endpoint has no private network: it excludes gcp.network and gcp.psc_project_allowlist",
            True,
        )
    rollout = effective_rollout(endpoint, context.defaults)
    for field in ("canary_percent", "step_percent"):
        value = getattr(rollout, field)
        if value != int(value):
            raise field_error(
                TITLE,
                (*path, "rollout", field),
                f"Vertex AI splits traffic in whole percents, got {value}",
                value,
            )
    capture = effective_data_capture(endpoint, context.defaults)
    if capture is not None:
        if capture.destination_uri is not None:
            raise field_error(
                TITLE,
                (*path, "data_capture", "destination_uri"),
                "Vertex AI logs requests to a BigQuery dataset the platform creates; a destination URI is not "
                "realized on GCP",
                capture.destination_uri,
            )
        if not (capture.capture_request and capture.capture_response):
            raise field_error(
                TITLE,
                (*path, "data_capture"),
                "Vertex AI request-response logging records both requests and responses; "
                "capture_request and capture_response must both be true on GCP",
            )


def _check_model_artifact(artifact: str, path: tuple[str | int, ...]) -> None:
    scheme = uri_scheme(artifact)
    if scheme and scheme != "gs":
        raise field_error(
            TITLE,
            path,
            f"Vertex AI reads models from Cloud Storage: use gs:// or a path relative to gcp.model_store_uri, "
            f"not {scheme}://",
            artifact,
        )


def _check_challenger(
    spec: PlatformSpec, path: tuple[str | int, ...], endpoint: EndpointSpec, context: RealizeContext
) -> None:
    """An A/B challenger is its own Vertex model on the same endpoint, split in whole percents."""
    challenger = endpoint.challenger
    assert challenger is not None
    where = (*path, "challenger")
    _check_image(challenger.model.serving, (*where, "model", "serving"), "challenger serving", context)
    _check_model_artifact(challenger.model.artifact, (*where, "model", "artifact"))
    if len(_challenger_model_name(spec, endpoint)) > _MODEL_NAME_MAX:
        raise field_error(
            TITLE,
            (*path, "name"),
            f"registry.model_name, the endpoint name and '-{CHALLENGER_KEY}' together exceed {_MODEL_NAME_MAX} "
            "characters on Vertex (the challenger's registered model)",
            endpoint.name,
        )
    if challenger.percent != int(challenger.percent):
        raise field_error(
            TITLE,
            (*where, "percent"),
            f"Vertex AI splits traffic in whole percents, got {challenger.percent}",
            challenger.percent,
        )


def _check_batch(spec: PlatformSpec, index: int, batch: BatchInferenceSpec, context: RealizeContext) -> None:
    """A Vertex batch prediction reads and writes Cloud Storage and writes JSON Lines."""
    path: tuple[str | int, ...] = ("batch", index)
    _check_image(batch.model.serving, (*path, "model", "serving"), "batch serving", context)
    _check_model_artifact(batch.model.artifact, (*path, "model", "artifact"))
    for field in ("input", "output"):
        value = getattr(batch, field)
        scheme = uri_scheme(value) if value is not None else None
        if scheme and scheme != "gs":
            raise field_error(
                TITLE,
                (*path, field),
                f"Vertex AI batch prediction reads and writes Cloud Storage: use gs:// or a path relative to the "
                f"platform's batch data bucket, not {scheme}://",
                value,
            )
    if batch.format is BatchFormat.CSV:
        raise field_error(
            TITLE,
            (*path, "format"),
            "Vertex AI writes a custom-trained model's batch predictions as JSON Lines (or to BigQuery), never CSV, "
            "so csv outputs cannot match the inputs on GCP: use format jsonl",
            batch.format.value,
        )
    if len(_batch_model_name(spec, batch)) > _MODEL_NAME_MAX:
        raise field_error(
            TITLE,
            (*path, "name"),
            f"registry.model_name, '-batch-' and the batch name together exceed {_MODEL_NAME_MAX} characters on "
            "Vertex (the batch model's registered name)",
            batch.name,
        )


# --- realize -------------------------------------------------------------------------------------


def realize(parent: pulumi.ComponentResource, spec: PlatformSpec, context: RealizeContext) -> dict[str, Any]:
    """Create the platform's GCP components under ``parent`` and return their names (camelCase keys)."""
    defaults = context.defaults
    region = spec.gcp.region
    key = registered_shared_key(region, parent)
    if key is None:
        key = PlatformKey(context.child_name("key"), {"region": region}, opts=context.opts(parent))
        adopt_shared_key(key, parent)
    project = project_id(pulumi.InvokeOutputOptions(parent=parent))
    # Parented to the platform, e-mail channels named after the address (reordering replaces nothing).
    channels = severity_channels(
        context.child_name("alert"),
        spec.alerts,
        display_prefix=f"{context.platform_name} alerts",
        labels=context.platform.gcp_labels,
        opts=context.opts(parent),
    )
    warning: list[pulumi.Input[str]] = channels.names("warning")

    features: FeatureStore | None = None
    if spec.feature_store is not None:
        features = FeatureStore(
            context.child_name("features"),
            {
                "region": region,
                "feature_groups": [_feature_group(g) for g in spec.feature_store.feature_groups],
                "online_store": {} if any(g.online for g in spec.feature_store.feature_groups) else None,
                "feature_views": [
                    {
                        "name": g.name,
                        "features": {g.name: _value_features(g)},
                        # the spec's materialization schedule is the views' sync from BigQuery
                        **(
                            {"schedule": spec.feature_store.materialization}
                            if spec.feature_store.materialization is not None
                            else {}
                        ),
                    }
                    for g in spec.feature_store.feature_groups
                    if g.online
                ],
                "archive_after_days": spec.lifecycle.archive_after_days,
            },
            opts=context.opts(parent),
        )

    approval = effective_approval(spec.registry, defaults)
    registry_name = context.child_name("registry")
    models_bucket = context.platform.name(f"{registry_name}-models", naming.GCS_BUCKET)
    model_store: pulumi.Input[str] = spec.gcp.model_store_uri or f"gs://{models_bucket}"
    aliases = [approval.approved_label] if approval.mode is ApprovalMode.AUTOMATIC else [CHALLENGER_ALIAS]
    models = _registered_models(spec, model_store, aliases)
    registry = ModelRegistry(
        registry_name,
        {
            "region": region,
            "approved_alias": approval.approved_label,
            "models": list(models.values()),
            "models_bucket_name": models_bucket,
            # Archived, never deleted: a registered version may reference any artifact (spec/lifecycle.py).
            "archive_after_days": spec.lifecycle.archive_after_days,
        },
        opts=context.opts(parent),
    )
    if approval.deploy_webhook is not None:  # the approved alias starts the deployment (docs/approval-to-rollout.md)
        DeployOnApproval(
            context.child_name("deploy-on-approval"),
            {
                "region": region,
                "webhook": approval.deploy_webhook,
                "model_ids": [
                    context.platform.name(m, naming.GCP_RESOURCE) for m in models or [spec.registry.model_name]
                ],
                "approved_alias": approval.approved_label,
            },
            opts=context.opts(parent, depends_on=[registry]),
        )
    registered_model = (
        registry.model_name(spec.registry.model_name)
        if spec.registry.model_name in registry.models
        else concat(
            "projects/",
            project,
            f"/locations/{region}/models/",
            context.platform.name(spec.registry.model_name, naming.GCP_RESOURCE),
        )
    )

    tracking: ExperimentTracking | None = None
    if spec.tracking is not None:  # Vertex AI Experiments on a CMEK TensorBoard
        tracking = ExperimentTracking(
            context.child_name("tracking"),
            {"region": region, "experiment": spec.tracking.experiment_name(spec.registry.model_name)},
            opts=context.opts(parent),
        )
    pipeline: TrainingPipeline | None = None
    pipeline_name: str | None = None
    if spec.training is not None:
        pipeline_name = context.platform.name(context.child_name("training"), naming.GCP_RESOURCE)
        pipeline = _training(
            parent,
            spec,
            context,
            training=spec.training,
            pipeline_name=pipeline_name,
            features=features,
            registry=registry,
            registered_model=registered_model,
            tensorboard=tracking.tensorboard_name if tracking is not None else None,
        )
        realize_airflow(parent, spec, context, key=key, pipeline=pipeline)

    endpoints: list[Endpoint] = []
    for endpoint in spec.endpoints:
        endpoints.append(
            _endpoint(
                parent,
                spec,
                context,
                endpoint=endpoint,
                registry=registry,
                approved_alias=approval.approved_label,
                channels=channels,
            )
        )

    drift_check = _drift(
        parent,
        spec,
        context,
        project=project,
        features=features,
        endpoints=endpoints,
        pipeline=pipeline,
        channels=warning,
    )
    if spec.batch:
        _batch(parent, spec, context, registry=registry, approved_alias=approval.approved_label, drift=drift_check,
               channels=warning)  # fmt: skip
    if pipeline is not None:
        training_failure_policy(
            context.child_name("training-failed"),
            display_name=f"{context.platform.name(context.child_name('training'), naming.GCP_RESOURCE)} failed",
            scheduler_jobs=[pipeline.scheduler_job.name] if pipeline.scheduler_job is not None else [],
            notification_channels=warning,
            labels=context.platform.gcp_labels,
            opts=context.opts(parent),
        )

    access = {persona: [_principal(spec, g) for g in getattr(spec.access, persona)] for persona in PERSONA_ROLES}
    if any(access.values()):
        PlatformAccess(
            context.child_name("access"),
            {
                **access,
                "feature_dataset": features.dataset_id if features is not None else None,
                "models_bucket": registry.models_bucket_name,
                "pipeline_service_account": pipeline.service_account_email if pipeline is not None else None,
            },
            opts=context.opts(parent),
        )

    if audit_enabled(spec.audit, context.defaults):
        AuditLogs(context.child_name("audit"), opts=context.opts(parent))

    realized_budget = _budget(parent, spec, context, channels)
    # After drift, batch and the budget's routes: adding off-hours never moves the Workflows agent's key grant
    # (its first creator owns it; a moved grant is replaced, and deleting the old one drops the shared binding).
    _off_hours(parent, spec, context, endpoints, warning)
    operations_dashboard(
        context.child_name("dashboard"),
        {
            "title": f"{context.platform.name(context.platform_name, naming.GCP_RESOURCE)} operations",
            "endpoints": [
                {
                    "name": e.name,
                    "endpoint_id": served.endpoint_id,
                    "error_rate_percent": e.alerts.error_rate_percent,
                    "p95_latency_ms": e.alerts.p95_latency_ms,
                }
                for e, served in zip(spec.endpoints, endpoints, strict=True)
            ],
            "drift_metric_type": drift_check.metric_type if drift_check is not None else None,
            "budget": {
                "monthly_limit": spec.budget.limit_for(context.cloud),
                "alert_at_percent": spec.budget.alert_at_percent,
                "notified": _budget_receivers(spec),
            },
        },
        opts=context.opts(parent),
    )
    return {
        "keyName": key.key_name,
        "featureStore": features.dataset_id if features is not None else None,
        "pipelineName": pipeline_name,
        "registryName": registered_model,
        "endpointNames": {e.name: served.resource_name for e, served in zip(spec.endpoints, endpoints, strict=True)},
        "budgetName": realized_budget.budget.name,
        "driftWorkflow": drift_check.workflow_name if drift_check is not None else None,
        "tensorboard": tracking.tensorboard_name if tracking is not None else None,
    }


def _budget(
    parent: pulumi.ComponentResource, spec: PlatformSpec, context: RealizeContext, channels: SeverityChannels
) -> Budget:
    """The budget (every threshold, actual and forecast), heard by every receiver of its severity.

    Cloud Billing notifies Cloud Monitoring e-mail channels only, so the budget names the e-mail channels
    (at most five) and publishes every update to the ``gcp-budget-alerts`` topic, whose workflow logs a
    crossed threshold as critical (actual spend at 100 % or more) or warning and whose log-match policies
    notify that severity's channels: PagerDuty and Slack included.
    """
    budget = spec.budget
    routes = BudgetAlerts(
        context.child_name("budget-alerts"),
        {
            "region": spec.gcp.region,
            "critical_channels": channels.names("critical"),
            "warning_channels": channels.names("warning"),
        },
        opts=context.opts(parent),
    )
    return Budget(
        context.child_name("budget"),
        {
            "billing_account": spec.gcp.billing_account,
            "monthly_limit": budget.limit_for(context.cloud),
            "currency": "USD",
            "thresholds": [
                {"threshold_percent": percent, "basis": basis}
                for percent in budget.alert_at_percent
                for basis in ("CURRENT_SPEND", "FORECASTED_SPEND")
            ],
            "notification_channels": channels.budget_names(),
            "pubsub_topic": routes.topic_id,
        },
        # Billing may publish to the topic before the budget names it.
        opts=context.opts(parent, depends_on=[routes]),
    )


def _budget_receivers(spec: PlatformSpec) -> str:
    """Who the budgets notify, in words (the dashboard's cost tile)."""
    receivers = sorted({*spec.alerts.receivers("warning"), *spec.alerts.receivers("critical")})
    return ", ".join([*receivers, "billing account administrators"])


def _value_features(group: FeatureGroupSpec) -> list[str]:
    """The group's feature values: every feature but the entity key and the event time."""
    return [f.name for f in group.features if f.name not in {group.entity_key, group.event_time}]


def _feature_group(group: FeatureGroupSpec) -> dict[str, Any]:
    """A Vertex feature group over a day-partitioned BigQuery table with the spec's typed columns."""
    keys = {group.entity_key, group.event_time}
    return {
        "name": group.name,
        "table": group.name,
        "description": group.description,
        "entity_id_columns": [group.entity_key],
        "partition_column": group.event_time,
        "columns": [
            {
                "name": f.name,
                "type": BIGQUERY_TYPES[f.type],
                "mode": "REQUIRED" if f.name in keys else "NULLABLE",
                "description": f.description,
            }
            for f in group.features
        ],
        "features": [{"name": f.name, "description": f.description} for f in group.features if f.name not in keys],
    }


def _registered_model_name(spec: PlatformSpec, endpoint: EndpointSpec) -> str:
    """The registry's model for the first endpoint's model; other models get the endpoint's name appended."""
    first = spec.endpoints[0] if spec.endpoints else None
    same = first is not None and (
        first.model.artifact == endpoint.model.artifact
        and first.model.serving.for_cloud(Cloud.GCP) == endpoint.model.serving.for_cloud(Cloud.GCP)
    )
    return spec.registry.model_name if same else f"{spec.registry.model_name}-{endpoint.name}"


def _batch_model_name(spec: PlatformSpec, batch: BatchInferenceSpec) -> str:
    """An endpoint's registered model when the batch scores with the same model, else ``<model_name>-batch-<name>``."""
    for endpoint in spec.endpoints:
        if endpoint.model.artifact == batch.model.artifact and endpoint.model.serving.for_cloud(
            Cloud.GCP
        ) == batch.model.serving.for_cloud(Cloud.GCP):
            return _registered_model_name(spec, endpoint)
    return f"{spec.registry.model_name}-batch-{batch.name}"


def _gcs(bucket: str, location: str) -> str:
    """``location`` as a gs:// URI: as given when absolute, else under ``bucket``."""
    return location if "://" in location else f"gs://{bucket}/{location}"


def _bucket_of(uri: str) -> str:
    return uri.removeprefix("gs://").split("/", 1)[0]


def _batch(
    parent: pulumi.ComponentResource,
    spec: PlatformSpec,
    context: RealizeContext,
    *,
    registry: ModelRegistry,
    approved_alias: str,
    drift: DriftRetraining | None,
    channels: list[pulumi.Input[str]],
) -> list[BatchPrediction]:
    """``batch``: the CMEK batch data bucket, and a scheduled Vertex batch prediction per entry."""
    data_name = context.child_name("batch-data")
    data_bucket = context.platform.name(data_name, naming.GCS_BUCKET)
    data = SecureBucket(data_name, {"region": spec.gcp.region, "bucket_name": data_bucket}, opts=context.opts(parent))
    realized = []
    for batch in spec.batch:
        source = _gcs(data_bucket, batch.input)
        target = _gcs(data_bucket, batch.output or f"predictions/{batch.name}/")
        machine_type, accelerator_type, accelerator_count = batch.compute.gcp_machine("prediction")
        realized.append(
            BatchPrediction(
                context.child_name(f"batch-{batch.name}"),
                {
                    "region": spec.gcp.region,
                    "model": registry.model_name(_batch_model_name(spec, batch)),
                    "alias": approved_alias,
                    # A prefix scores every file under it (Vertex accepts wildcards).
                    "input_uris": [f"{source}*" if source.endswith("/") else source],
                    "instances_format": batch.format.value,
                    "output_uri_prefix": target,
                    "machine_type": machine_type,
                    "accelerator_type": accelerator_type,
                    "accelerator_count": accelerator_count,
                    "max_replicas": batch.max_replicas,
                    "max_runtime_seconds": batch.max_runtime_seconds,
                    "schedule": batch.schedule,
                    "read_buckets": sorted({_bucket_of(source)}),
                    "write_buckets": sorted({_bucket_of(target)}),
                    "notification_channels": channels,
                },
                opts=context.opts(parent, depends_on=[data]),
            )
        )
    return realized


def _challenger_model_name(spec: PlatformSpec, endpoint: EndpointSpec) -> str:
    """The registry's model of an endpoint's A/B challenger: ``<model_name>-<endpoint>-challenger``."""
    return f"{spec.registry.model_name}-{endpoint.name}-{CHALLENGER_KEY}"


def _artifact_directory(store: pulumi.Input[str], artifact: str) -> pulumi.Input[str]:
    """The gs:// directory Vertex reads the model from: a file's directory (Vertex's artifactUri is a folder)."""
    if "://" in artifact:
        return _directory(artifact)
    if isinstance(store, str):
        return _directory(f"{store.rstrip('/')}/{artifact}")
    return concat(store, "/", artifact).apply(lambda uri: _directory(uri.replace("//" + artifact, "/" + artifact)))


def _directory(uri: str) -> str:
    last = uri.rstrip("/").rsplit("/", 1)[-1]
    if uri.endswith("/") or "." not in last:
        return uri
    return uri[: len(uri) - len(last)]


def _training(
    parent: pulumi.ComponentResource,
    spec: PlatformSpec,
    context: RealizeContext,
    *,
    training: TrainingSpec,
    pipeline_name: str,
    features: FeatureStore | None,
    registry: ModelRegistry,
    registered_model: pulumi.Output[str],
    tensorboard: pulumi.Output[str] | None = None,
) -> TrainingPipeline:
    approval = effective_approval(spec.registry, context.defaults)
    machine_type, accelerator_type, accelerator_count = training.compute.gcp_machine("training")
    parameters: dict[str, Any] = {
        "parent_model": registered_model,
        # Automatic approval: a version that passes the gate is approved at registration.
        "model_alias": approval.approved_label if approval.mode is ApprovalMode.AUTOMATIC else CHALLENGER_ALIAS,
    }
    if spec.endpoints:
        parameters["serving_image"] = spec.endpoints[0].model.serving.for_cloud(Cloud.GCP)
    if features is not None and spec.feature_store is not None:
        project = project_id(pulumi.InvokeOutputOptions(parent=parent))
        table = spec.feature_store.feature_groups[0].name
        parameters["source_uri"] = concat("bq://", project, ".", features.dataset_id, f".{table}")
    parameters.update(training.parameters)
    return TrainingPipeline(
        context.child_name("training"),
        {
            "region": spec.gcp.region,
            "spec": {
                "kind": "template",
                "name": pipeline_name,
                "image": training.image.for_cloud(Cloud.GCP),
                "metric_name": training.gate.name,
                "metric_threshold": training.gate.threshold,
                "metric_direction": training.gate.direction.value,
                "train_machine_type": machine_type,
                "train_accelerator_type": accelerator_type,
                "train_accelerator_count": accelerator_count,
                "train_timeout_seconds": training.max_runtime_seconds,
                "train_spot": training.use_spot,
                "train_boot_disk_gb": training.volume_size_gb,
            },
            "parameter_values": parameters,
            # With training.orchestrator airflow the DAG owns the schedule (gcp/airflow_realization.py).
            "schedule": {"cron": training.schedule.cron, "time_zone": training.schedule.time_zone}
            if training.schedule is not None and not airflow_orchestrated(spec)
            else None,
            "network": spec.gcp.network,
            "read_datasets": [features.dataset_id] if features is not None else [],
            "write_buckets": [registry.models_bucket_name],
            "image_repositories": [registry.image_repository.repository_id],
            "archive_after_days": spec.lifecycle.archive_after_days,
            "tensorboard": tensorboard,
        },
        opts=context.opts(parent),
    )


def canary_percentages(rollout: Rollout) -> list[int]:
    """The share of a replaced version's traffic moved to its successor at each stage, percent."""
    if rollout.strategy is RolloutStrategy.CANARY:
        return [int(rollout.canary_percent), 100]
    if rollout.strategy is RolloutStrategy.LINEAR:
        step = int(rollout.step_percent)
        return [*range(step, 100, step), 100]
    return [100]


def _endpoint(
    parent: pulumi.ComponentResource,
    spec: PlatformSpec,
    context: RealizeContext,
    *,
    endpoint: EndpointSpec,
    registry: ModelRegistry,
    approved_alias: str,
    channels: SeverityChannels,
) -> Endpoint:
    defaults = context.defaults
    scaling = effective_scaling(endpoint, defaults, can_scale_to_zero=False)
    rollout = effective_rollout(endpoint, defaults)
    capture = effective_data_capture(endpoint, defaults)
    autoscaling = [{"metric_name": CPU_UTILIZATION, "target": max(1, round(scaling.target.value))}]

    def served(key: str, model_name: str, compute: Compute, min_replicas: int) -> dict[str, Any] | None:
        """One deployment of ``model_name``'s approved version; None while no version is approved (warned)."""
        model = registry.models[model_name]
        revision: pulumi.Input[str] | None = model.version_id
        if follows_latest_approved(spec, defaults):  # the version holding the alias now: moving it rolls out
            model_id = context.platform.name(model_name, naming.GCP_RESOURCE)
            lookup = endpoint.name if key == PRIMARY_KEY else f"{endpoint.name}-{key}"
            revision = latest_vertex_version(
                context, lookup, model_id=model_id, region=spec.gcp.region, alias=approved_alias,
                api_endpoint=registry.api_endpoint,
            )  # fmt: skip
        if revision is None:
            return None
        machine_type, accelerator_type, accelerator_count = compute.gcp_machine("prediction")
        return {
            "key": key,
            "model": model.name,
            "alias": approved_alias,
            "revision": revision,
            "machine_type": machine_type,
            "accelerator_type": accelerator_type,
            "accelerator_count": accelerator_count,
            "min_replicas": min_replicas,
            "max_replicas": max(scaling.max_replicas, 1),
            "autoscaling": autoscaling,
        }

    primary = served(
        PRIMARY_KEY, _registered_model_name(spec, endpoint), endpoint.compute, max(scaling.min_replicas, 1)
    )
    deployments = [primary] if primary is not None else []
    traffic_steps: list[dict[str, int]] = []
    ab = endpoint.challenger
    if ab is not None and primary is not None:
        # A/B: the challenger's own Vertex model on the same endpoint, on its own compute or the endpoint's,
        # one replica at least and the endpoint's most; the split stays through the champion's canaries.
        challenger = served(CHALLENGER_KEY, _challenger_model_name(spec, endpoint), ab.compute or endpoint.compute, 1)
        if challenger is not None:
            deployments.append(challenger)
            traffic_steps = [{PRIMARY_KEY: 100 - int(ab.percent), CHALLENGER_KEY: int(ab.percent)}]
    alerts = endpoint.alerts
    return Endpoint(
        context.child_name(endpoint.name),
        {
            "region": spec.gcp.region,
            "network": spec.gcp.network,
            "psc_project_allowlist": spec.gcp.psc_project_allowlist,
            "allow_public_endpoint": endpoint.allow_public_access,
            "deployments": deployments,
            "traffic_steps": traffic_steps,
            "approved_alias": approved_alias,
            "step_wait_seconds": rollout.bake_seconds,
            "canary_percentages": canary_percentages(rollout),
            "rollback_on_alerts": rollout.gradual and rollout.rollback_on_alarms,
            "request_logging": {"enabled": True, "sampling_percent": capture.sampling_percent}
            if capture is not None and _logs_requests(endpoint, context)
            else {"enabled": False},
            "alerts": EndpointAlerts(
                **alerts.model_dump(),
                severity_channels={"critical": channels.names("critical"), "warning": channels.names("warning")},
            ),
        },
        opts=context.opts(parent),
    )


def _registered_models(
    spec: PlatformSpec, model_store: pulumi.Input[str], aliases: list[str]
) -> dict[str, dict[str, Any]]:
    """The Vertex models to register, by name: each endpoint's, its challenger's and each batch job's."""
    models: dict[str, dict[str, Any]] = {}
    for endpoint in spec.endpoints:
        model_name = _registered_model_name(spec, endpoint)
        models.setdefault(
            model_name,
            {
                "name": model_name,
                "artifact_uri": _artifact_directory(model_store, endpoint.model.artifact),
                "serving_image": endpoint.model.serving.for_cloud(Cloud.GCP),
                "aliases": aliases,
                "description": spec.registry.description,
                "labels": {"model-format": endpoint.model.format.value},
            },
        )
        if endpoint.challenger is not None:  # its own Vertex model: approved (aliased) on its own
            challenger = endpoint.challenger.model
            models.setdefault(
                _challenger_model_name(spec, endpoint),
                {
                    "name": _challenger_model_name(spec, endpoint),
                    "artifact_uri": _artifact_directory(model_store, challenger.artifact),
                    "serving_image": challenger.serving.for_cloud(Cloud.GCP),
                    "aliases": aliases,
                    "description": f"A/B challenger of the {endpoint.name} endpoint",
                    "labels": {"model-format": challenger.format.value},
                },
            )
    for batch in spec.batch:
        models.setdefault(
            _batch_model_name(spec, batch),
            {
                "name": _batch_model_name(spec, batch),
                "artifact_uri": _artifact_directory(model_store, batch.model.artifact),
                "serving_image": batch.model.serving.for_cloud(Cloud.GCP),
                "aliases": aliases,
                "description": f"Model of the {batch.name} batch prediction",
                "labels": {"model-format": batch.model.format.value},
            },
        )
    return models


def _logs_requests(endpoint: EndpointSpec, context: RealizeContext) -> bool:
    """Whether the endpoint logs requests: capture on, with a share above 0 percent."""
    capture = effective_data_capture(endpoint, context.defaults)
    return capture is not None and capture.sampling_percent > 0


def _drift_group(spec: PlatformSpec) -> FeatureGroupSpec | None:
    """The feature group holding every watched feature (its offline table is the drift baseline)."""
    drift = spec.monitoring.drift
    if drift is None or spec.feature_store is None:
        return None
    for group in spec.feature_store.feature_groups:
        if set(drift.features) <= {f.name for f in group.features}:
            return group
    return None


def _drift_on(spec: PlatformSpec, context: RealizeContext) -> bool:
    return (
        bool(spec.endpoints)
        and spec.monitoring.drift is not None
        and monitoring_enabled(spec.monitoring, context.defaults)
    )


def _check_drift(spec: PlatformSpec, context: RealizeContext) -> None:
    """Drift on GCP compares the endpoints' request logs with one feature group's offline table."""
    if not _drift_on(spec, context):
        return
    drift = spec.monitoring.drift
    assert drift is not None
    if drift.baseline is not None:
        raise field_error(
            TITLE,
            ("monitoring", "drift", "baseline"),
            "on GCP the baseline is the feature store's offline table; a baseline path is not realized",
            drift.baseline,
        )
    if _drift_group(spec) is None:
        raise field_error(
            TITLE,
            ("monitoring", "drift", "features"),
            "on GCP drift is measured against one feature group's offline table: "
            "declare a feature_store with a group holding every watched feature",
            drift.features,
        )
    if not any(_logs_requests(e, context) for e in spec.endpoints):
        raise field_error(
            TITLE,
            ("endpoints", 0, "data_capture"),
            "drift on GCP reads the endpoints' request logs: turn data_capture on for at least one endpoint",
        )
    if spec.gcp.drift_engine == "vertex_model_monitoring" and monitor_interval_hours(drift.schedule) is None:
        raise field_error(
            TITLE,
            ("monitoring", "drift", "schedule"),
            "Vertex model monitoring runs every N hours: use '0 * * * *', '0 */N * * *' (N divides 24) or a daily cron",
            drift.schedule.cron,
        )


def _drift(
    parent: pulumi.ComponentResource,
    spec: PlatformSpec,
    context: RealizeContext,
    *,
    project: pulumi.Output[str],
    features: FeatureStore | None,
    endpoints: list[Endpoint],
    pipeline: TrainingPipeline | None,
    channels: list[pulumi.Input[str]],
) -> DriftRetraining | None:
    """The scheduled drift check; it starts the pipeline when ``training.retrain_on_drift``."""
    drift = spec.monitoring.drift
    group = _drift_group(spec)
    if not _drift_on(spec, context) or drift is None or group is None or features is None:
        return None
    logged = [e for e in endpoints if e.logging_dataset is not None]
    types = {f.name: f.type for f in group.features}
    retrain = pipeline is not None and spec.training is not None and spec.training.retrain_on_drift
    engine: dict[str, Any] = {"schedule": drift.schedule}
    if spec.gcp.drift_engine == "vertex_model_monitoring":
        engine = _vertex_drift_engine(spec, context, endpoints)
    return DriftRetraining(
        context.child_name("drift"),
        {
            "region": spec.gcp.region,
            **engine,
            "threshold": drift.threshold,
            "features": [
                {
                    "name": name,
                    "numeric": types[name] in {FeatureType.INT64, FeatureType.FLOAT64},
                    "threshold": drift.threshold_for(name),
                }
                for name in drift.features
            ],
            "baseline_table": concat(project, ".", features.dataset_id, f".{group.name}"),
            "baseline_time_column": group.event_time,
            "logging_tables": [e.logging_table for e in logged if e.logging_table is not None],
            "read_datasets": [
                features.dataset_id,
                *(e.logging_dataset.dataset_id for e in logged if e.logging_dataset),
            ],
            "pipeline_job": pipeline.job_body if retrain and pipeline is not None else None,
            "pipeline_service_account": pipeline.service_account_email if retrain and pipeline is not None else None,
            "notification_channels": channels,
        },
        opts=context.opts(parent),
    )


def _vertex_drift_engine(spec: PlatformSpec, context: RealizeContext, endpoints: list[Endpoint]) -> dict[str, Any]:
    """gcp.drift_engine vertex_model_monitoring: a monitoring job per serving endpoint, at the schedule's interval."""
    drift = spec.monitoring.drift
    assert drift is not None
    hours = monitor_interval_hours(drift.schedule)
    assert hours is not None  # _check_drift
    watched = []
    for endpoint_spec, served in zip(spec.endpoints, endpoints, strict=True):
        capture = effective_data_capture(endpoint_spec, context.defaults)
        if served.deployment is None or capture is None or capture.sampling_percent <= 0:
            continue
        watched.append(
            {
                "key": endpoint_spec.name,
                "endpoint": served.resource_name,
                "deployed_model_ids": served.deployment.deployed_model_ids,
                "sample_rate": capture.sampling_percent / 100,  # the share data_capture declares
            }
        )
    return {"engine": "vertex_model_monitoring", "monitor_interval_hours": hours, "monitored_endpoints": watched}


def _off_hours_on(spec: PlatformSpec, context: RealizeContext) -> bool:
    off_hours = spec.off_hours
    return off_hours is not None and bool(spec.endpoints) and off_hours.applies_to(context.defaults.environment)


def _check_off_hours(spec: PlatformSpec, context: RealizeContext) -> None:
    """Vertex model monitoring watches deployed models by id; off-hours redeploys them under new ids every morning."""
    if _off_hours_on(spec, context) and _drift_on(spec, context) and spec.gcp.drift_engine == "vertex_model_monitoring":
        raise field_error(
            TITLE,
            ("off_hours", "environments"),
            f"off-hours in {context.defaults.environment!r} undeploys the models every evening and redeploys them "
            "under new ids, which the Vertex model monitoring jobs (gcp.drift_engine vertex_model_monitoring) would "
            "stop watching: use gcp.drift_engine bigquery, or leave this environment out of off_hours.environments",
        )


def _off_hours(
    parent: pulumi.ComponentResource,
    spec: PlatformSpec,
    context: RealizeContext,
    endpoints: list[Endpoint],
    channels: list[pulumi.Input[str]],
) -> OffHours | None:
    """The endpoints' models undeployed at ``off_hours.stop`` and redeployed, as declared, at ``start``."""
    off_hours = spec.off_hours
    if off_hours is None or not _off_hours_on(spec, context):
        return None
    served = [(e, e.restore_plan()) for e in endpoints]
    return OffHours(
        context.child_name("off-hours"),
        {
            "region": spec.gcp.region,
            "stop": off_hours.stop,
            "start": off_hours.start,
            "endpoints": [
                {
                    "endpoint": e.resource_name,
                    "models": plan,
                    "serving_accounts": [d.service_account for d in e.args.deployments if d.service_account],
                }
                for e, plan in served
                if plan is not None
            ],
            "notification_channels": channels,
        },
        opts=context.opts(parent, depends_on=[e.deployment for e, _ in served if e.deployment is not None]),
    )


def _principal(spec: PlatformSpec, group: str) -> str:
    """``group:<name>@<gcp.group_domain>``, or the group as written when it is already an address."""
    if ":" in group:
        return group
    if "@" in group:
        return f"group:{group}"
    return f"group:{group}@{spec.gcp.group_domain}"


def _check_access(spec: PlatformSpec) -> None:
    """Every persona group must name a Cloud Identity group: an address, or a name plus gcp.group_domain."""
    for persona in PERSONA_ROLES:
        for index, group in enumerate(getattr(spec.access, persona)):
            if ":" in group or "@" in group or spec.gcp.group_domain is not None:
                try:
                    check_principal(_principal(spec, group))
                except ValueError as exc:
                    raise field_error(TITLE, ("access", persona, index), str(exc), group) from None
                continue
            raise field_error(
                TITLE,
                ("access", persona, index),
                f"{group!r} is not an e-mail address: set gcp.group_domain so it becomes group:{group}@<domain>",
                group,
            )
