"""The cloud-neutral ``PlatformSpec`` on Kubernetes: what ``stacks/k8s-kserve`` composes, from the spec.

- Tenancy: a namespace ``{project}-{environment}-{team}`` with ResourceQuota, LimitRange,
  default-deny NetworkPolicies and a Role per persona of ``spec.access`` (DevOps and analysts
  get their own least-privilege Roles when they have groups).
- In-cluster TLS (``k8s.in_cluster_tls``, on by default; plaintext is refused in protected
  environments): Tenancy creates the namespace's cert-manager CA unless ``k8s.cluster_issuer``
  names a ClusterIssuer; Redis and PostgreSQL serve TLS only with certificates from it and their
  clients (Feast pods, MLflow) verify them with the mounted ``ca.crt``.
- Feast from ``spec.feature_store`` (one entity per entity key, one feature view per group).
- MLflow (behind oauth2-proxy) as the registry; the approval gate travels to the training job
  (``MLOPS_APPROVAL_MODE``, ``MLOPS_APPROVED_ALIAS``): MLflow itself enforces no approval.
- Training: an Argo CronWorkflow or a CronJob on the spec's ``Schedule`` (cron + time zone),
  sized from ``Compute.kubernetes_resources()`` (GPUs as ``nvidia.com/gpu``). Under Argo the
  WorkflowTemplate is train -> evaluate -> register: the model is registered into MLflow only
  when ``training.gate``'s metric meets its threshold (the ``when`` of the register step).
  With ``training.orchestrator: kubeflow`` the same gated pipeline is KFP v2 IR in a PipelineVersion
  with a ScheduledWorkflow (Kubeflow Pipelines >= 2.5 in Kubernetes-native API mode, ``k8s.kubeflow``).
- KServe InferenceServices: compute, scaling (dev scales to zero), rollout as
  ``canaryTrafficPercent``, data capture as the KServe logger, cluster-local unless
  ``allow_public_access``. With ``k8s.serving_backend: seldon`` each endpoint is a Seldon Core v2
  ``SeldonEndpoint`` instead (Model + Server, an Experiment for its challenger; what Seldon cannot
  realize is refused by :mod:`mlops_infra.k8s.seldon_spec`), with latency and error alerts on
  Seldon's metrics and no canary guard, router, off-hours or deploy webhook.
- Canary gate: for every endpoint whose rollout is gradual with ``rollback_on_alarms`` (prod by
  default), a ``CanaryGuard`` CronJob promotes the canary after ``bake_seconds`` and rolls it back
  (``canaryTrafficPercent: 0``) when its error rate or p95 latency, read from kube-prometheus-stack's
  Prometheus, breaches the endpoint's alert thresholds.
- Prometheus: error-rate (percent) and p95-latency (ms) alerts per endpoint, the drift alert when
  monitoring is on, naming the on-demand training trigger when ``retrain_on_drift``; every alert of
  the namespace is e-mailed to ``spec.alerts.emails`` (an AlertmanagerConfig).
- Drift: when monitoring is on and ``spec.monitoring.drift`` is set, one ``DriftDetector`` per
  namespace receives every endpoint's KServe logger CloudEvents (unless ``k8s.capture_sink_url`` or
  the endpoint's ``destination_uri`` names another sink), exports the per-feature drift (0-1) as
  ``k8s.drift_metric`` for the drift alert, and with ``retrain_on_drift`` starts the on-demand
  training trigger itself (an Argo Workflow or a Job), at most once per cooldown (6 h).

- Budget: Kubernetes has no billing API, so ``budget.monthly_limit_usd`` is watched from OpenCost's
  cost metrics (a PrometheusRule on the namespace's monthly spend forecast at each
  ``alert_at_percent``, and an alert when OpenCost is missing); ``alert_at_percent`` also alerts on
  ResourceQuota use.

- Prerequisites: with ``k8s.install_prerequisites``, a ``ClusterPrerequisites`` installs KServe,
  cert-manager, Istio (+ Gateway API CRDs for ``gateway_api``), OpenCost, kube-prometheus-stack
  (unless ``existing_prometheus``), Knative Serving when an endpoint runs in Knative mode and Argo with
  ``argo_enabled``, at pinned chart versions; every part after the namespace and storage class waits
  for it (the CRDs its objects need).

Not realized, by design: the offline store's retention (the bucket's lifecycle), spot capacity and the training volume
size (node pools belong to the cluster). Secrets come from the
stack's secret config, never from the spec: ``redisPassword``, ``postgresPassword``,
``oidcClientSecret``, ``cookieSecret``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import pulumi
from pydantic import ValidationError

from mlops_infra.k8s import labels as lbl
from mlops_infra.k8s.alert_routing import AlertRouting, missing_secret_error, missing_secret_keys, receiver_secrets
from mlops_infra.k8s.audit_policy import audit_policy_yaml
from mlops_infra.k8s.batch_inference import BatchInference
from mlops_infra.k8s.canary_guard import CanaryGuard
from mlops_infra.k8s.certificate import IssuerRef
from mlops_infra.k8s.deploy_webhook import COMPONENT as DEPLOY_WEBHOOK
from mlops_infra.k8s.deploy_webhook import DeployWebhookPoller
from mlops_infra.k8s.drift_detector import DriftDetector, evaluation_seconds
from mlops_infra.k8s.endpoint import Endpoint
from mlops_infra.k8s.feature_store import FeatureStore
from mlops_infra.k8s.kubeflow_pipeline import KubeflowTrainingPipeline
from mlops_infra.k8s.kubeflow_schedule import check_schedule_zone
from mlops_infra.k8s.model_registry import ModelRegistry
from mlops_infra.k8s.monitoring import Monitoring
from mlops_infra.k8s.off_hours import OffHours
from mlops_infra.k8s.prerequisites import ClusterPrerequisites
from mlops_infra.k8s.quantity import parse_quantity
from mlops_infra.k8s.quota_alerts import QuotaAlerts
from mlops_infra.k8s.seldon import SeldonEndpoint
from mlops_infra.k8s.seldon_spec import check_seldon
from mlops_infra.k8s.spend_budget import SpendBudget, gpu_share_for
from mlops_infra.k8s.storage_class import EncryptedStorageClass
from mlops_infra.k8s.tenancy import LimitRangeSettings, QuotaSettings, Tenancy
from mlops_infra.k8s.traffic_router import TrafficRouter
from mlops_infra.k8s.training_pipeline import TrainingPipeline
from mlops_infra.realization import RealizeContext
from mlops_infra.registry import serve_latest_mlflow
from mlops_infra.registry.deploy_token import check_deploy_token
from mlops_infra.spec.approval import DeployWebhook
from mlops_infra.spec.base import StrInput, field_error
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
from mlops_infra.spec.feature_store import FeatureStoreSpec, FeatureType
from mlops_infra.spec.k8s import ServingBackend
from mlops_infra.spec.k8s import TrafficRouter as RouterKind
from mlops_infra.spec.model import ModelSpec
from mlops_infra.spec.platform import PlatformSpec
from mlops_infra.spec.rollout import Rollout, RolloutStrategy
from mlops_infra.spec.scaling import Scaling, ScalingMetric
from mlops_infra.spec.support import refuse_unrealized, refuse_unrealized_off_hours
from mlops_infra.spec.training import Orchestrator

SPEC = "PlatformSpec"
SECRET_KEYS = {
    "redis_password": "redisPassword",
    "postgres_password": "postgresPassword",
    "oidc_client_secret": "oidcClientSecret",
    "cookie_secret": "cookieSecret",
}
"""Stack secret config the realization reads (``pulumi config set --secret <key> ...``)."""

FEAST_TYPES: Mapping[FeatureType, str] = {
    FeatureType.STRING: "String",
    FeatureType.INT64: "Int64",
    FeatureType.FLOAT64: "Float64",
    FeatureType.BOOL: "Bool",
    FeatureType.TIMESTAMP: "UnixTimestamp",
}
SCALE_METRICS: Mapping[ScalingMetric, str] = {
    ScalingMetric.CONCURRENCY: "concurrency",
    ScalingMetric.REQUESTS_PER_SECOND: "rps",
    ScalingMetric.CPU_PERCENT: "cpu",
}
MAX_REPLICAS = 100  # EndpointArgs' ceiling
MAX_SCALE_TARGET = 10_000
MAX_RUN_SECONDS = 604_800  # TrainingPipelineArgs' ceiling (7 days)
NO_EXPIRY_TTL_DAYS = 3650  # Feast's online TTL when the spec sets none
PVC_SIZES = {"registry": "1Gi", "offline": "50Gi", "artifacts": "20Gi"}
KNATIVE_BROKER = "http://broker-ingress.knative-eventing.svc.cluster.local"
RESERVED_NAMES = frozenset({"team", "features", "registry", "training", "alerts", "quota-alerts", "drift"})
"""Parts named ``k8s-<part>``: an endpoint of the same name would share their ServiceAccount names."""


def team(spec: PlatformSpec) -> str:
    """The team id: ``k8s.team``, else the registered model's name."""
    return spec.k8s.team or spec.registry.model_name


def feast_project(spec: PlatformSpec) -> str:
    """Feast project id (``[a-z][a-z0-9_]{0,15}``) from the registered model's name."""
    return spec.registry.model_name.replace("-", "_")[:16].rstrip("_")


def model_uri(spec: PlatformSpec, endpoint: EndpointSpec | ModelSpec) -> StrInput:
    """The artifact as an absolute URI: relative paths resolve against ``k8s.model_store_uri`` (may be an Output)."""
    artifact = (endpoint.model if isinstance(endpoint, EndpointSpec) else endpoint).artifact
    if "://" in artifact:
        return artifact
    store = spec.k8s.model_store_uri
    if store is None:  # check() refused this already
        raise ValueError("k8s.model_store_uri is needed to resolve a relative artifact")
    if isinstance(store, str):
        return f"{store.rstrip('/')}/{artifact}"
    return pulumi.Output.from_input(store).apply(lambda root: f"{root.rstrip('/')}/{artifact}")


def resources(compute: Compute) -> dict[str, Any]:
    """ComputeResources args from the size class (limits equal requests)."""
    size = compute.kubernetes_resources()
    return {
        "cpu_request": size.cpu,
        "cpu_limit": size.cpu,
        "memory_request": size.memory,
        "memory_limit": size.memory,
        "gpus": size.gpu,
    }


def canary_share(rollout: Rollout) -> float | None:
    """The share a new version gets first: the canary, a linear rollout's first step, or None (at once)."""
    if rollout.strategy is RolloutStrategy.CANARY:
        return rollout.canary_percent
    if rollout.strategy is RolloutStrategy.LINEAR:
        return rollout.step_percent
    return None


def canary_percent(rollout: Rollout) -> int | None:
    """KServe's ``canaryTrafficPercent`` (whole percent; check() refused fractions)."""
    share = canary_share(rollout)
    return None if share is None else int(share)


def _secret_config_missing() -> list[str]:
    config = pulumi.Config()
    return [key for key in SECRET_KEYS.values() if config.get(key) is None]


def scales_to_zero(spec: PlatformSpec, endpoint: EndpointSpec) -> bool:
    """Whether the endpoint may scale to zero: KServe's Knative mode only; an endpoint with a challenger runs
    Standard mode, and Seldon Core v2 Models are not scaled to zero (k8s/seldon_spec.py)."""
    return endpoint.challenger is None and spec.k8s.serving_backend is ServingBackend.KSERVE


def _gpus_needed(spec: PlatformSpec, context: RealizeContext) -> int:
    training = spec.training.compute.kubernetes_resources().gpu if spec.training is not None else 0
    serving = 0
    for e in spec.endpoints:
        replicas = effective_scaling(e, context.defaults, can_scale_to_zero=scales_to_zero(spec, e)).max_replicas
        serving += e.compute.kubernetes_resources().gpu * replicas
        if e.challenger is not None:
            serving += (e.challenger.compute or e.compute).kubernetes_resources().gpu * replicas
    batch = sum(b.compute.kubernetes_resources().gpu * b.max_replicas for b in spec.batch)
    return training + serving + batch


def _check_compute(compute: Compute, location: tuple[str | int, ...]) -> None:
    size = compute.kubernetes_resources()
    limits = LimitRangeSettings()
    if parse_quantity(size.cpu) > parse_quantity(limits.max_cpu):
        raise field_error(SPEC, (*location, "resources", "cpu"), f"above the namespace's {limits.max_cpu} CPU limit")
    if parse_quantity(size.memory) > parse_quantity(limits.max_memory):
        raise field_error(
            SPEC, (*location, "resources", "memory"), f"above the namespace's {limits.max_memory} memory limit"
        )


def _check_feature_store(store: FeatureStoreSpec) -> None:
    for index, group in enumerate(store.feature_groups):
        if not [f for f in group.features if f.name not in (group.entity_key, group.event_time)]:
            raise field_error(
                SPEC,
                ("feature_store", "feature_groups", index, "features"),
                "Feast needs at least one feature besides entity_key and event_time",
            )


def _check_scaling(scaling: Scaling, location: tuple[str | int, ...]) -> None:
    if scaling.max_replicas > MAX_REPLICAS:
        raise field_error(SPEC, (*location, "max_replicas"), f"KServe realizes at most {MAX_REPLICAS} replicas")
    if scaling.target.value > MAX_SCALE_TARGET:
        raise field_error(SPEC, (*location, "target", "value"), f"KServe targets at most {MAX_SCALE_TARGET}")


def _check_endpoint(spec: PlatformSpec, context: RealizeContext, index: int, endpoint: EndpointSpec) -> None:
    location: tuple[str | int, ...] = ("endpoints", index)
    if endpoint.name in RESERVED_NAMES:
        raise field_error(
            SPEC,
            (*location, "name"),
            f"{endpoint.name!r} is the name of a platform part on Kubernetes ({', '.join(sorted(RESERVED_NAMES))})",
        )
    if "://" not in endpoint.model.artifact and spec.k8s.model_store_uri is None:
        raise field_error(
            SPEC,
            ("k8s", "model_store_uri"),
            f"endpoint {endpoint.name!r} has the relative artifact {endpoint.model.artifact!r}: "
            "set k8s.model_store_uri (s3://, gs:// or pvc://) to resolve it",
        )
    if endpoint.model.format.value == "custom":
        raise field_error(
            SPEC, (*location, "model", "format"), "KServe picks the server by model format: 'custom' is not realized"
        )
    _check_compute(endpoint.compute, (*location, "compute"))
    scaling_location = (*location, "scaling") if endpoint.scaling is not None else location
    _check_scaling(
        effective_scaling(endpoint, context.defaults, can_scale_to_zero=scales_to_zero(spec, endpoint)),
        scaling_location,
    )
    if endpoint.challenger is not None:
        _check_challenger(spec, context, index, endpoint)
    rollout = effective_rollout(endpoint, context.defaults)
    if rollout.strategy is RolloutStrategy.BLUE_GREEN:
        raise field_error(
            SPEC, (*location, "rollout", "strategy"), "KServe has no blue/green rollout: use canary or linear"
        )
    share = canary_share(rollout)
    if share is not None and share != int(share):
        field = "canary_percent" if rollout.strategy is RolloutStrategy.CANARY else "step_percent"
        raise field_error(SPEC, (*location, "rollout", field), f"KServe splits traffic in whole percent, not {share}")
    capture = effective_data_capture(endpoint, context.defaults)
    destination = capture.destination_uri if capture is not None else None
    if destination is not None and not isinstance(destination, str):
        raise field_error(
            SPEC,
            (*location, "data_capture", "destination_uri"),
            "KServe's logger needs its sink URL at plan time (an https:// URL), not another resource's output",
        )
    if isinstance(destination, str) and not destination.startswith("https://"):
        raise field_error(
            SPEC,
            (*location, "data_capture", "destination_uri"),
            "KServe's logger posts to an http(s) sink: give an https:// URL, or leave it unset and set "
            "k8s.capture_sink_url (the sink writes to object storage)",
        )


STANDARD_MODE = (
    "an endpoint with a challenger runs both models in KServe Standard mode (Deployments behind the "
    "traffic router's Service)"
)


def _check_challenger(spec: PlatformSpec, context: RealizeContext, index: int, endpoint: EndpointSpec) -> None:
    """What the router and Standard mode cannot realize, named by field (docs/components/k8s-traffic-router.md)."""
    location: tuple[str | int, ...] = ("endpoints", index)
    challenger = endpoint.challenger
    if challenger is None:
        return
    if spec.k8s.serving_backend is ServingBackend.KSERVE:  # Seldon's Experiment routes (k8s/seldon_spec.py)
        _check_standard_mode(spec, context, index, endpoint)
    if challenger.model.format.value == "custom":
        raise field_error(
            SPEC,
            (*location, "challenger", "model", "format"),
            "KServe picks the server by model format: 'custom' is not realized",
        )
    if "://" not in challenger.model.artifact and spec.k8s.model_store_uri is None:
        raise field_error(
            SPEC,
            ("k8s", "model_store_uri"),
            f"endpoint {endpoint.name!r}'s challenger has the relative artifact {challenger.model.artifact!r}: "
            "set k8s.model_store_uri (s3://, gs:// or pvc://) to resolve it",
        )
    if challenger.compute is not None:
        _check_compute(challenger.compute, (*location, "challenger", "compute"))


def _check_standard_mode(spec: PlatformSpec, context: RealizeContext, index: int, endpoint: EndpointSpec) -> None:
    """What KServe Standard mode and the traffic router cannot realize for an endpoint with a challenger."""
    location: tuple[str | int, ...] = ("endpoints", index)
    challenger = endpoint.challenger
    if challenger is None:
        return
    scaling = endpoint.scaling
    if scaling is not None and scaling.min_replicas == 0:
        raise field_error(
            SPEC, (*location, "scaling", "min_replicas"), f"{STANDARD_MODE}: scale to zero needs Knative mode"
        )
    if scaling is not None and scaling.target.metric is not ScalingMetric.CPU_PERCENT:
        raise field_error(
            SPEC,
            (*location, "scaling", "target", "metric"),
            f"{STANDARD_MODE}: its HorizontalPodAutoscaler scales on cpu_percent only",
        )
    if effective_rollout(endpoint, context.defaults).gradual:
        field = (*location, "rollout", "strategy") if endpoint.rollout is not None else (*location, "rollout")
        raise field_error(
            SPEC,
            field,
            f"{STANDARD_MODE}: a new champion version replaces pods one by one (readiness-gated rolling update), "
            "not in canary steps; set rollout.strategy: all_at_once (the challenger's percent is the gradual "
            "exposure), or remove the challenger",
        )
    if endpoint.allow_public_access:
        raise field_error(
            SPEC,
            (*location, "allow_public_access"),
            "the challenger's router is a mesh route on a cluster-local Service: a public endpoint has no challenger",
        )
    if (
        challenger.mode is ChallengerMode.AB
        and spec.k8s.traffic_router is RouterKind.ISTIO
        and challenger.percent != int(challenger.percent)
    ):
        raise field_error(
            SPEC,
            (*location, "challenger", "percent"),
            f"Istio route weights are whole percent, not {challenger.percent} (gateway_api splits in 0.01 %)",
        )


def data_location(spec: PlatformSpec, path: str) -> str:
    """A batch input/output: an absolute URI as is, a relative path under ``k8s.data_uri`` (check() needs it)."""
    if "://" in path:
        return path
    if spec.k8s.data_uri is None:
        raise ValueError("k8s.data_uri is needed to resolve a relative batch location")
    return f"{spec.k8s.data_uri.rstrip('/')}/{path}"


def batch_output(spec: PlatformSpec, batch: BatchInferenceSpec) -> str:
    """Where a batch run writes: ``output``, else ``predictions/<name>/`` in the data store."""
    return data_location(spec, batch.output if batch.output is not None else f"predictions/{batch.name}/")


def _check_batch(spec: PlatformSpec, index: int, batch: BatchInferenceSpec) -> None:
    location: tuple[str | int, ...] = ("batch", index)
    if batch.model.serving.for_cloud(Cloud.K8S) is None:
        raise field_error(
            SPEC,
            (*location, "model", "serving", "per_cloud", "k8s"),
            "no batch scoring image for Kubernetes (the image reads MLOPS_MODEL_URI, MLOPS_INPUT_URI, "
            "MLOPS_OUTPUT_URI, MLOPS_FORMAT and its shard; docs/components/k8s-batch-inference.md)",
        )
    if "://" not in batch.model.artifact and spec.k8s.model_store_uri is None:
        raise field_error(
            SPEC,
            ("k8s", "model_store_uri"),
            f"batch {batch.name!r} has the relative artifact {batch.model.artifact!r}: set k8s.model_store_uri",
        )
    output = batch.output if batch.output is not None else f"predictions/{batch.name}/"
    for field, path in (("input", batch.input), ("output", output)):
        if "://" not in path and spec.k8s.data_uri is None:
            raise field_error(
                SPEC,
                (*location, field),
                f"{path!r} is relative to the data store: set k8s.data_uri (s3:// or gs://) or give an absolute URI",
            )
    _check_compute(batch.compute, (*location, "compute"))


def check(spec: PlatformSpec, context: RealizeContext) -> None:
    """Refuse what Kubernetes cannot realize, naming the spec field; registers nothing."""
    refuse_unrealized(spec, Cloud.K8S)
    refuse_unrealized_off_hours(spec, Cloud.K8S, context.defaults.environment)
    k8s = spec.k8s
    if k8s.oidc_issuer_url is None:
        raise field_error(
            SPEC, ("k8s", "oidc_issuer_url"), "MLflow's login needs the https:// OIDC issuer of your identity provider"
        )
    try:
        QuotaSettings.model_validate(k8s.quota.model_dump(exclude={"gpus"}))
    except ValidationError as error:
        raise field_error(SPEC, ("k8s", "quota"), error.errors()[0]["msg"].removeprefix("Value error, ")) from None
    if k8s.quota.gpus is not None and k8s.quota.gpus < _gpus_needed(spec, context):
        raise field_error(
            SPEC,
            ("k8s", "quota", "gpus"),
            f"{k8s.quota.gpus} GPUs cannot run training and the endpoints at their maximum "
            f"({_gpus_needed(spec, context)} GPUs)",
        )
    groups = spec.access.data_scientists + spec.access.ml_engineers + spec.access.model_approvers
    if not groups:
        raise field_error(
            SPEC, ("access", "ml_engineers"), "MLflow admits identity-provider groups only: name at least one"
        )
    if spec.feature_store is not None:
        _check_feature_store(spec.feature_store)
    if spec.training is not None:
        if spec.training.image.for_cloud(Cloud.K8S) is None:
            raise field_error(SPEC, ("training", "image", "per_cloud", "k8s"), "no training image for Kubernetes")
        if spec.training.max_runtime_seconds > MAX_RUN_SECONDS:
            raise field_error(
                SPEC, ("training", "max_runtime_seconds"), f"Kubernetes runs are limited to {MAX_RUN_SECONDS} s here"
            )
        _check_compute(spec.training.compute, ("training", "compute"))
        if spec.training.orchestrator is Orchestrator.KUBEFLOW:
            _check_kubeflow(spec, context)
    check_seldon(spec, context)  # first: its refusals name Seldon, not KServe
    for index, endpoint in enumerate(spec.endpoints):
        _check_endpoint(spec, context, index, endpoint)
    for index, batch in enumerate(spec.batch):
        _check_batch(spec, index, batch)
    _check_protected(spec, context)
    missing = _secret_config_missing() + missing_secret_keys(spec.alerts)
    if missing:
        raise missing_secret_error(missing[0])
    check_deploy_token(effective_approval(spec.registry, context.defaults).deploy_webhook)


def _check_protected(spec: PlatformSpec, context: RealizeContext) -> None:
    """A protected environment's alerts reach a person and its volumes are encrypted with your key."""
    if context.defaults.protected and not spec.alerts.has_receiver:
        raise field_error(
            SPEC,
            ("alerts",),
            f"{context.defaults.environment} is a protected environment: its alerts must reach a person "
            "(set alerts.emails, alerts.pagerduty or alerts.slack)",
        )
    if context.defaults.protected and spec.k8s.storage is None:
        raise field_error(
            SPEC,
            ("k8s", "storage"),
            f"{context.defaults.environment} is a protected environment: the platform's volumes (Redis, PostgreSQL"
            "{}) need an encrypted StorageClass: set k8s.storage.provisioner and kms_key to create one, or "
            "k8s.storage.existing_class to use yours".format("" if spec.k8s.data_uri else ", Feast, MLflow artifacts"),
        )
    if context.defaults.protected and not spec.k8s.in_cluster_tls:
        raise field_error(
            SPEC,
            ("k8s", "in_cluster_tls"),
            f"{context.defaults.environment} is a protected environment: Redis and PostgreSQL must serve TLS only "
            "(remove in_cluster_tls: false)",
            False,
        )


def _storage(spec: PlatformSpec, path: str, pvc: str, storage_class: str | None) -> dict[str, str]:
    data = spec.k8s.data_uri
    if data:
        return {"uri": f"{data.rstrip('/')}/{path}"}
    return {"pvc_size": PVC_SIZES[pvc], **({"storage_class": storage_class} if storage_class else {})}


def _storage_class(
    parent: pulumi.Resource, spec: PlatformSpec, context: RealizeContext
) -> tuple[str | None, EncryptedStorageClass | None]:
    """The StorageClass every PVC names: created (provisioner + key), existing by name, or None (cluster default)."""
    storage = spec.k8s.storage
    if storage is None:
        return None, None
    if storage.existing_class is not None:
        return storage.existing_class, None
    created = EncryptedStorageClass(
        context.child_name("storage"),
        {"provisioner": storage.provisioner, "kms_key": storage.kms_key},
        opts=context.opts(parent),
    )
    return created.class_name, created


def _tls(spec: PlatformSpec, tenancy: Tenancy) -> dict[str, Any] | None:
    """``tls`` of FeatureStore and ModelRegistry: the spec's ClusterIssuer or the namespace's CA; None when off."""
    if not spec.k8s.in_cluster_tls:
        return None
    if spec.k8s.cluster_issuer is not None:
        return {"issuer": IssuerRef(name=spec.k8s.cluster_issuer, kind="ClusterIssuer")}
    return {"issuer": tenancy.tls_issuer}


def _feature_store(  # noqa: PLR0917 - storage and TLS are shared with the registry
    parent: pulumi.Resource,
    spec: PlatformSpec,
    context: RealizeContext,
    namespace: pulumi.Output[str],
    storage: tuple[str | None, EncryptedStorageClass | None],
    tls: dict[str, Any] | None,
) -> FeatureStore | None:
    store = spec.feature_store
    if store is None:
        return None
    config = pulumi.Config()
    entities = {g.entity_key: {"name": g.entity_key, "join_key": g.entity_key} for g in store.feature_groups}
    views = [
        {
            "name": group.name,
            "entities": [group.entity_key],
            "source": f"{group.name}/",
            "timestamp_field": group.event_time,
            "ttl_days": group.online_ttl_days or NO_EXPIRY_TTL_DAYS,
            "online": group.online,
            "features": {
                f.name: FEAST_TYPES[f.type]
                for f in group.features
                if f.name not in (group.entity_key, group.event_time)
            },
        }
        for group in store.feature_groups
    ]
    return FeatureStore(
        context.child_name("features"),
        {
            "namespace": namespace,
            "feast_project": feast_project(spec),
            "entities": list(entities.values()),
            "feature_views": views,
            "registry": _storage(spec, "feast/registry.db", "registry", storage[0]),
            "offline_store": _storage(spec, "feast/offline", "offline", storage[0]),
            "redis_password": config.require_secret(SECRET_KEYS["redis_password"]),
            **({"redis": {"storage_class": storage[0]}} if storage[0] else {}),
            "tls": tls,
            # the online store is filled from the offline store on the spec's schedule (incremental)
            **({"materialization": store.materialization} if store.materialization is not None else {}),
            "service_account_annotations": spec.k8s.workload_identity,
        },
        opts=context.opts(parent, depends_on=[storage[1]] if storage[1] else None),
    )


def _registry(  # noqa: PLR0917 - storage and TLS are shared with the feature store
    parent: pulumi.Resource,
    spec: PlatformSpec,
    context: RealizeContext,
    namespace: pulumi.Output[str],
    storage: tuple[str | None, EncryptedStorageClass | None],
    tls: dict[str, Any] | None,
) -> ModelRegistry:
    config = pulumi.Config()
    access = spec.access
    return ModelRegistry(
        context.child_name("registry"),
        {
            "namespace": namespace,
            "artifact_store": _storage(spec, "mlflow", "artifacts", storage[0]),
            "postgres_password": config.require_secret(SECRET_KEYS["postgres_password"]),
            **({"postgres": {"storage_class": storage[0]}} if storage[0] else {}),
            "tls": tls,
            "auth": {
                "oidc_issuer_url": spec.k8s.oidc_issuer_url,
                "client_id": f"mlflow-{context.defaults.environment}",
                "client_secret": config.require_secret(SECRET_KEYS["oidc_client_secret"]),
                "cookie_secret": config.require_secret(SECRET_KEYS["cookie_secret"]),
                "allowed_groups": sorted({*access.data_scientists, *access.ml_engineers, *access.model_approvers}),
            },
            "service_account_annotations": spec.k8s.workload_identity,
            # The deploy webhook's poller reads the approved alias on MLflow's own port, like training.
            **({"internal_clients": [lbl.TRAINING, DEPLOY_WEBHOOK]} if _webhook(spec, context) else {}),
        },
        opts=context.opts(parent, depends_on=[storage[1]] if storage[1] else None),
    )


def _webhook(spec: PlatformSpec, context: RealizeContext) -> DeployWebhook | None:
    return effective_approval(spec.registry, context.defaults).deploy_webhook


def _deploy_webhook(  # noqa: PLR0917 - the poller compares the alias with what these endpoints serve
    parent: pulumi.Resource,
    spec: PlatformSpec,
    context: RealizeContext,
    namespace: pulumi.Output[str],
    registry: ModelRegistry,
    endpoints: list[Endpoint],
) -> DeployWebhookPoller | None:
    """The approved alias starts the deployment (docs/approval-to-rollout.md); None without a deploy webhook."""
    webhook = _webhook(spec, context)
    if webhook is None:
        return None
    return DeployWebhookPoller(
        context.child_name("deploy-on-approval"),
        {
            "namespace": namespace,
            "webhook": webhook,
            "mlflow_url": registry.tracking_uri,
            "model_name": spec.registry.model_name,
            "alias": effective_approval(spec.registry, context.defaults).approved_label,
            "inference_services": [served.isvc_name for served in endpoints],
        },
        opts=context.opts(parent, depends_on=[registry]),
    )


def _check_kubeflow(spec: PlatformSpec, context: RealizeContext) -> None:
    """What Kubeflow Pipelines needs and cannot do, refused by field before anything registers."""
    assert spec.training is not None
    kubeflow = spec.k8s.kubeflow
    if kubeflow is None:
        raise field_error(
            SPEC,
            ("k8s", "kubeflow"),
            "training.orchestrator kubeflow needs k8s.kubeflow.command (KFP's launcher replaces the training "
            "image's entrypoint, so the command must be explicit)",
        )
    if spec.training.schedule is not None:
        try:
            check_schedule_zone(spec.training.schedule, kubeflow.controller_time_zone)
        except ValueError as exc:
            raise field_error(SPEC, ("training", "schedule", "time_zone"), str(exc)) from None
    if (
        spec.training.retrain_on_drift
        and spec.monitoring.drift is not None
        and monitoring_enabled(spec.monitoring, context.defaults)
    ):
        raise field_error(
            SPEC,
            ("training", "retrain_on_drift"),
            "the drift detector starts an Argo Workflow or a Job, and a Kubeflow Pipelines run is started only "
            "through the KFP API, which it does not call: set training.retrain_on_drift false (the recurring run "
            "retrains on schedule) or use training.orchestrator native",
        )


def _training(
    parent: pulumi.Resource,
    spec: PlatformSpec,
    context: RealizeContext,
    namespace: pulumi.Output[str],
    env: Mapping[str, pulumi.Input[str]],
) -> TrainingPipeline | KubeflowTrainingPipeline | None:
    training = spec.training
    if training is None:
        return None
    approval = effective_approval(spec.registry, context.defaults)
    gate = training.gate
    schedule: dict[str, Any] = (
        {"schedule": training.schedule}
        if training.schedule is not None
        else {"suspend": True}  # on demand only: the default schedule stays suspended
    )
    # Under Argo or KFP the gate is enforced by the pipeline: evaluate, then register only when the metric passes.
    gate_args: dict[str, Any] = {
        "metric": gate.name,
        "threshold": gate.threshold,
        "direction": gate.direction.value,
        "tracking_uri": env["MLFLOW_TRACKING_URI"],
        "registered_model": spec.registry.model_name,
        "approval_mode": approval.mode.value,
        "approved_alias": approval.approved_label,
    }
    if training.orchestrator is Orchestrator.KUBEFLOW:
        return _kubeflow_training(parent, spec, context, namespace, env, gate_args)
    gated: dict[str, Any] = {"gate": gate_args} if spec.k8s.argo_enabled else {}
    return TrainingPipeline(
        context.child_name("training"),
        {
            "namespace": namespace,
            "image": training.image.for_cloud(Cloud.K8S),
            "args": [f"--{name}={value}" for name, value in sorted(training.parameters.items())],
            "env": {
                **env,
                "MLOPS_REGISTERED_MODEL": spec.registry.model_name,
                "MLOPS_APPROVAL_MODE": approval.mode.value,
                "MLOPS_APPROVED_ALIAS": approval.approved_label,
                "MLOPS_GATE_METRIC": gate.name,
                "MLOPS_GATE_THRESHOLD": str(gate.threshold),
                "MLOPS_GATE_DIRECTION": gate.direction.value,
            },
            **schedule,
            "argo_enabled": spec.k8s.argo_enabled,
            "resources": resources(training.compute),
            "active_deadline_seconds": training.max_runtime_seconds,
            "service_account_annotations": spec.k8s.workload_identity,
            **gated,
        },
        opts=context.opts(parent),
    )


def _kubeflow_training(  # noqa: PLR0917 - _training's arguments plus the gate it built
    parent: pulumi.Resource,
    spec: PlatformSpec,
    context: RealizeContext,
    namespace: pulumi.Output[str],
    env: Mapping[str, pulumi.Input[str]],
    gate_args: dict[str, Any],
) -> KubeflowTrainingPipeline:
    """The gated pipeline as a KFP PipelineVersion and its ScheduledWorkflow (check() vetted k8s.kubeflow)."""
    training, kubeflow = spec.training, spec.k8s.kubeflow
    assert training is not None and kubeflow is not None
    schedule: dict[str, Any] = (
        {"schedule": training.schedule}
        if training.schedule is not None
        else {"suspend": True, "schedule": {"cron": "0 3 * * *", "time_zone": kubeflow.controller_time_zone}}
    )
    return KubeflowTrainingPipeline(
        context.child_name("training"),
        {
            "namespace": namespace,
            "image": training.image.for_cloud(Cloud.K8S),
            "command": kubeflow.command,
            "args": [f"--{name}={value}" for name, value in sorted(training.parameters.items())],
            "env": {
                **env,
                "MLOPS_REGISTERED_MODEL": spec.registry.model_name,
                "MLOPS_GATE_METRIC": gate_args["metric"],
            },
            **schedule,
            "controller_time_zone": kubeflow.controller_time_zone,
            "experiment_id": kubeflow.experiment_id,
            "artifact_secret": kubeflow.artifact_secret,
            "resources": resources(training.compute),
            "active_deadline_seconds": training.max_runtime_seconds,
            "service_account_annotations": spec.k8s.workload_identity,
            "gate": gate_args,
        },
        opts=context.opts(parent),
    )


def _logger(
    spec: PlatformSpec, context: RealizeContext, endpoint: EndpointSpec, namespace: str, detector: DriftDetector | None
) -> dict[str, str]:
    capture = effective_data_capture(endpoint, context.defaults)
    if capture is None:
        return {}
    # KServe logs every request: sampling_percent is not applied on Kubernetes (the sink may sample).
    mode = (
        "all"
        if capture.capture_request and capture.capture_response
        else ("request" if capture.capture_request else "response")
    )
    destination = capture.destination_uri if isinstance(capture.destination_uri, str) else None
    detector_url = detector.url_in(namespace) if detector is not None else None
    url = destination or spec.k8s.capture_sink_url or detector_url or f"{KNATIVE_BROKER}/{namespace}/capture"
    return {"url": url, "mode": mode}


def _endpoint(  # noqa: PLR0917 - the endpoint's logger posts to the namespace's detector
    parent: pulumi.Resource,
    spec: PlatformSpec,
    context: RealizeContext,
    tenancy: Tenancy,
    endpoint: EndpointSpec,
    detector: DriftDetector | None,
) -> Endpoint:
    return _inference_service(parent, spec, context, tenancy, endpoint, detector, challenger=False)


def _inference_service(  # noqa: PLR0917 - champion or challenger of one endpoint
    parent: pulumi.Resource,
    spec: PlatformSpec,
    context: RealizeContext,
    tenancy: Tenancy,
    endpoint: EndpointSpec,
    detector: DriftDetector | None,
    *,
    challenger: bool,
) -> Endpoint:
    """The endpoint's champion InferenceService, or (``challenger``) its challenger's; Standard mode with a router."""
    scaling = effective_scaling(endpoint, context.defaults, can_scale_to_zero=scales_to_zero(spec, endpoint))
    logger = _logger(spec, context, endpoint, tenancy.physical_namespace, detector)
    model = endpoint.challenger.model if challenger and endpoint.challenger is not None else endpoint.model
    compute = (endpoint.challenger.compute if challenger and endpoint.challenger is not None else None) or (
        endpoint.compute
    )
    args: dict[str, Any] = {
        "namespace": tenancy.namespace_name,
        "model_format": model.format.value,
        "model_format_version": model.format_version,
        "storage_uri": model_uri(spec, model),
        "min_replicas": scaling.min_replicas,
        "max_replicas": scaling.max_replicas,
        "scale_metric": SCALE_METRICS[scaling.target.metric],
        "scale_target": max(1, round(scaling.target.value)),
        "resources": resources(compute),
        "allow_public_access": endpoint.allow_public_access,
        "service_account_annotations": spec.k8s.workload_identity,
    }
    if endpoint.challenger is None:
        args["canary_percent"] = canary_percent(effective_rollout(endpoint, context.defaults))
    else:  # check() refused gradual rollouts, scale to zero and Knative metrics for these
        args["deployment_mode"] = "Standard"
    if logger:
        args["logger"] = logger
    name = f"{endpoint.name}-challenger" if challenger else endpoint.name
    return Endpoint(
        context.child_name(name),
        args,
        opts=context.opts(parent, depends_on=[detector] if detector is not None else None),
    )


def _seldon_endpoint(
    parent: pulumi.Resource, spec: PlatformSpec, context: RealizeContext, tenancy: Tenancy, endpoint: EndpointSpec
) -> SeldonEndpoint:
    """The endpoint on Seldon Core v2: its Model and Server, and an Experiment with its challenger's."""
    scaling = effective_scaling(endpoint, context.defaults, can_scale_to_zero=False)
    args: dict[str, Any] = {
        "namespace": tenancy.namespace_name,
        "model_format": endpoint.model.format.value,
        "storage_uri": model_uri(spec, endpoint.model),
        "min_replicas": scaling.min_replicas,
        "max_replicas": scaling.max_replicas,
        "resources": resources(endpoint.compute),
        # check() refused capture wherever the environment or the endpoint asks for it
        "allow_no_data_capture": True,
        "service_account_annotations": spec.k8s.workload_identity,
    }
    challenger = endpoint.challenger
    if challenger is not None:
        args["challenger"] = {
            "storage_uri": model_uri(spec, challenger.model),
            "model_format": challenger.model.format.value,
            "mode": challenger.mode.value,
            "percent": challenger.percent,
            **({"resources": resources(challenger.compute)} if challenger.compute is not None else {}),
        }
    return SeldonEndpoint(context.child_name(endpoint.name), args, opts=context.opts(parent))


def _batch(
    parent: pulumi.Resource, spec: PlatformSpec, context: RealizeContext, namespace: pulumi.Output[str]
) -> list[BatchInference]:
    """One scheduled scoring run per ``spec.batch`` entry (CronJob, or Argo CronWorkflow with k8s.argo_enabled)."""
    return [
        BatchInference(
            context.child_name(f"batch-{batch.name}"),
            {
                "namespace": namespace,
                "image": batch.model.serving.for_cloud(Cloud.K8S),
                "model_uri": model_uri(spec, batch.model),
                "model_format": batch.model.format.value,
                "input_uri": data_location(spec, batch.input),
                "output_uri": batch_output(spec, batch),
                "format": batch.format.value,
                "schedule": batch.schedule,
                "resources": resources(batch.compute),
                "shards": batch.max_replicas,
                "active_deadline_seconds": batch.max_runtime_seconds,
                "argo_enabled": spec.k8s.argo_enabled,
                "service_account_annotations": spec.k8s.workload_identity,
            },
            opts=context.opts(parent),
        )
        for batch in spec.batch
    ]


def _router(  # noqa: PLR0917 - one endpoint's champion and challenger
    parent: pulumi.Resource,
    spec: PlatformSpec,
    context: RealizeContext,
    endpoint: EndpointSpec,
    champion: Endpoint,
    challenger: Endpoint,
) -> TrafficRouter | None:
    """The A/B split or shadow mirror between the endpoint's two InferenceServices (None without a challenger)."""
    if endpoint.challenger is None:
        return None
    return TrafficRouter(
        context.child_name(f"{endpoint.name}-router"),
        {
            "namespace": champion.args.namespace,
            "champion": champion.isvc_name,
            "challenger": challenger.isvc_name,
            "mode": endpoint.challenger.mode.value,
            "percent": endpoint.challenger.percent,
            "router": spec.k8s.traffic_router.value,
        },
        opts=context.opts(parent, depends_on=[champion, challenger]),
    )


def _monitoring(  # noqa: PLR0917 - one endpoint's alerts need all of these
    parent: pulumi.Resource,
    spec: PlatformSpec,
    context: RealizeContext,
    namespace: pulumi.Output[str],
    endpoint: EndpointSpec,
    served: str,
    training: TrainingPipeline | None,
    part: str = "monitoring",
) -> Monitoring:
    """Alerts on the InferenceService ``served``, or with the Seldon backend on the Seldon Server ``served``."""
    alerts = endpoint.alerts
    seldon = spec.k8s.serving_backend is ServingBackend.SELDON
    # Seldon records no payloads, so no detector exports drift for it (check() refused monitoring.drift).
    drift_on = monitoring_enabled(spec.monitoring, context.defaults) and not seldon
    drift = spec.monitoring.drift
    args: dict[str, Any] = {
        "namespace": namespace,
        "endpoint_name": served,
        "backend": spec.k8s.serving_backend.value,
        "p95_latency_ms": alerts.p95_latency_ms,
        "error_rate_percent": alerts.error_rate_percent,
        "alert_for": f"{alerts.period_seconds * alerts.datapoints_to_alarm}s",
        "drift_enabled": drift_on,
        "alert_namespace_label": True,
        "drift_metric": spec.k8s.drift_metric,
        "selector_labels": spec.k8s.prometheus_selector_labels,
    }
    if drift is not None:
        args["drift_threshold"] = drift.threshold
        # the alert compares each feature with the threshold the DriftDetector retrains on
        args["drift_feature_thresholds"] = {
            f: drift.threshold_for(f) for f in drift.features if drift.threshold_for(f) != drift.threshold
        }
    if drift_on and training is not None and spec.training is not None and spec.training.retrain_on_drift:
        args["retrain_trigger"] = f"{training.trigger_kind}/{training.trigger_name}"
    return Monitoring(context.child_name(f"{endpoint.name}-{part}"), args, opts=context.opts(parent))


def _drift_detector(
    parent: pulumi.Resource,
    spec: PlatformSpec,
    context: RealizeContext,
    namespace: pulumi.Output[str],
    training: TrainingPipeline | None,
) -> DriftDetector | None:
    """The namespace's drift detector when monitoring is on and the spec watches features; else None."""
    drift = spec.monitoring.drift
    if drift is None or not monitoring_enabled(spec.monitoring, context.defaults):
        return None
    retrain = training is not None and spec.training is not None and spec.training.retrain_on_drift
    args: dict[str, Any] = {
        "namespace": namespace,
        "features": drift.features,
        "threshold": drift.threshold,
        "feature_thresholds": {
            f: drift.threshold_for(f) for f in drift.features if drift.threshold_for(f) != drift.threshold
        },
        "drift_metric": spec.k8s.drift_metric,
        "evaluation_seconds": evaluation_seconds(drift.schedule),
        "retrain_on_drift": retrain,
        "selector_labels": spec.k8s.prometheus_selector_labels,
    }
    if retrain and training is not None:
        args["retrain_trigger"] = f"{training.trigger_kind}/{training.trigger_name}"
    return DriftDetector(context.child_name("drift"), args, opts=context.opts(parent))


def _canary_guard(
    parent: pulumi.Resource, spec: PlatformSpec, context: RealizeContext, endpoint: EndpointSpec, served: Endpoint
) -> CanaryGuard | None:
    """The metric gate of a gradual rollout that rolls back on alarms; None for all-at-once or no rollback."""
    rollout = effective_rollout(endpoint, context.defaults)
    if not rollout.gradual or not rollout.rollback_on_alarms:
        return None
    return CanaryGuard(
        context.child_name(f"{endpoint.name}-canary-guard"),
        {
            "namespace": served.args.namespace,
            "inference_service": served.isvc_name,
            "error_rate_percent": endpoint.alerts.error_rate_percent,
            "p95_latency_ms": endpoint.alerts.p95_latency_ms,
            "rollout": rollout,
            **({"prometheus_url": spec.k8s.prometheus_url} if spec.k8s.prometheus_url else {}),
        },
        opts=context.opts(parent, depends_on=[served]),
    )


def _off_hours(
    parent: pulumi.ComponentResource,
    spec: PlatformSpec,
    context: RealizeContext,
    namespace: pulumi.Output[str],
    endpoints: list[Endpoint],
) -> OffHours | None:
    """CronJobs that take the predictors' floor to zero at ``off_hours.stop`` and back at ``start``."""
    off_hours = spec.off_hours
    if off_hours is None or not endpoints or not off_hours.applies_to(context.defaults.environment):
        return None
    floors = {
        served.isvc_name: effective_scaling(endpoint, context.defaults, can_scale_to_zero=True).min_replicas
        for endpoint, served in zip(spec.endpoints, endpoints, strict=True)
    }
    return OffHours(
        context.child_name("off-hours"),
        {"namespace": namespace, "stop": off_hours.stop, "start": off_hours.start, "floors": floors},
        opts=context.opts(parent),
    )


def _prerequisites(
    parent: pulumi.Resource,
    spec: PlatformSpec,
    context: RealizeContext,
    storage: tuple[str | None, EncryptedStorageClass | None],
) -> ClusterPrerequisites | None:
    """The pinned cluster prerequisites with ``k8s.install_prerequisites``; Knative only for Knative-mode endpoints."""
    k8s = spec.k8s
    if not k8s.install_prerequisites:
        return None
    return ClusterPrerequisites(
        context.child_name("prerequisites"),
        {
            "knative": any(scales_to_zero(spec, endpoint) for endpoint in spec.endpoints),
            "argo": k8s.argo_enabled,
            "traffic_router": k8s.traffic_router.value,
            "existing_prometheus_url": k8s.prometheus_url if k8s.existing_prometheus else None,
            "storage_class": storage[0],
            "selector_labels": k8s.prometheus_selector_labels,
        },
        opts=context.opts(parent, depends_on=[storage[1]] if storage[1] else None),
    )


def _tenancy(parent: pulumi.Resource, spec: PlatformSpec, context: RealizeContext) -> Tenancy:
    """The team namespace: quota, its CA when the in-cluster TLS is signed there, and the personas' groups."""
    access = spec.access
    return Tenancy(
        context.child_name("team"),
        {
            "team": team(spec),
            "quota": {
                "requests_cpu": spec.k8s.quota.requests_cpu,
                "limits_cpu": spec.k8s.quota.limits_cpu,
                "requests_memory": spec.k8s.quota.requests_memory,
                "limits_memory": spec.k8s.quota.limits_memory,
                "gpus": spec.k8s.quota.gpus if spec.k8s.quota.gpus is not None else _gpus_needed(spec, context),
            },
            # Redis and PostgreSQL always keep their data on PVCs in this namespace.
            "holds_state": True,
            # their TLS certificates are signed by the namespace's CA unless the spec names a ClusterIssuer
            "certificate_authority": spec.k8s.in_cluster_tls and spec.k8s.cluster_issuer is None,
            "groups": {
                "data_scientists": access.data_scientists,
                "ml_engineers": access.ml_engineers,
                "devops": access.devops,
                "analysts": access.analysts,
            },
        },
        opts=context.opts(parent),
    )


def _alerts_and_budget(
    parent: pulumi.Resource, spec: PlatformSpec, context: RealizeContext, namespace: pulumi.Input[str]
) -> SpendBudget:
    """Alert routing, quota alerts and the namespace's spend budget (its GPU quota share from the spec)."""
    if spec.alerts.has_receiver:
        AlertRouting(
            context.child_name("alerts"),
            {
                "namespace": namespace,
                "emails": spec.alerts.emails,
                **receiver_secrets(spec.alerts),
                "selector_labels": spec.k8s.prometheus_selector_labels,
            },
            opts=context.opts(parent),
        )
    QuotaAlerts(
        context.child_name("quota-alerts"),
        {
            "namespace": namespace,
            "alert_at_percent": spec.budget.alert_at_percent,
            "selector_labels": spec.k8s.prometheus_selector_labels,
        },
        opts=context.opts(parent),
    )
    monthly_limit = spec.budget.limit_for(context.cloud)
    try:  # the budget's quota admits the GPUs the spec runs (Tenancy's GPU quota), no more
        gpu_share = gpu_share_for(_gpus_needed(spec, context), monthly_limit)
    except ValueError as exc:
        raise field_error(SPEC, ("budget", "monthly_limit_usd"), str(exc), monthly_limit) from exc
    return SpendBudget(
        context.child_name("budget"),
        {
            "namespace": namespace,
            "monthly_limit_usd": monthly_limit,
            "gpu_share_percent": gpu_share,
            "alert_at_percent": spec.budget.alert_at_percent,
            "selector_labels": spec.k8s.prometheus_selector_labels,
        },
        opts=context.opts(parent),
    )


def realize(parent: pulumi.ComponentResource, spec: PlatformSpec, context: RealizeContext) -> dict[str, Any]:
    """Create the platform's Kubernetes components under ``parent``; outputs with camelCase keys."""
    spec = serve_latest_mlflow(spec, context)  # latest_approved: artifacts from the MLflow alias (mlops_infra.registry)
    storage = _storage_class(parent, spec, context)
    prerequisites = _prerequisites(parent, spec, context, storage)
    if prerequisites is not None:  # everything below creates custom resources or runs on the installed software
        context = replace(context, requires=(prerequisites,))
    tenancy = _tenancy(parent, spec, context)
    namespace = tenancy.namespace_name
    tls = _tls(spec, tenancy)
    features = _feature_store(parent, spec, context, namespace, storage, tls)
    registry = _registry(parent, spec, context, namespace, storage, tls)
    env: dict[str, pulumi.Input[str]] = {"MLFLOW_TRACKING_URI": registry.tracking_uri}
    if spec.tracking is not None:  # the platform's MLflow is the tracker: runs log to the spec's experiment
        env["MLFLOW_EXPERIMENT_NAME"] = spec.tracking.experiment_name(spec.registry.model_name)
    if features is not None:
        env["FEAST_FEATURE_SERVER_URL"] = features.feature_server_url
    pipeline = _training(parent, spec, context, namespace, env)
    # Only the Argo/CronJob pipeline has an on-demand trigger the drift detector can start.
    training = pipeline if isinstance(pipeline, TrainingPipeline) else None
    detector = _drift_detector(parent, spec, context, namespace, training)
    endpoints = []
    urls: dict[str, pulumi.Output[str]] = {}
    names: dict[str, str] = {}
    for endpoint in spec.endpoints:
        if spec.k8s.serving_backend is ServingBackend.SELDON:
            seldon = _seldon_endpoint(parent, spec, context, tenancy, endpoint)
            parts = ("monitoring", "challenger-monitoring")
            for server, part in zip(seldon.servers, parts, strict=False):  # one Server per model
                _monitoring(parent, spec, context, namespace, endpoint, server, training, part=part)
            names[endpoint.name] = seldon.model_name
            urls[endpoint.name] = seldon.url
            continue
        served = _endpoint(parent, spec, context, tenancy, endpoint, detector)
        _monitoring(parent, spec, context, namespace, endpoint, served.isvc_name, training)
        _canary_guard(parent, spec, context, endpoint, served)
        endpoints.append(served)
        names[endpoint.name] = served.isvc_name
        urls[endpoint.name] = served.url
        if endpoint.challenger is not None:
            challenger = _inference_service(parent, spec, context, tenancy, endpoint, detector, challenger=True)
            _monitoring(
                parent, spec, context, namespace, endpoint, challenger.isvc_name, training, part="challenger-monitoring"
            )
            router = _router(parent, spec, context, endpoint, served, challenger)
            if router is not None:
                urls[endpoint.name] = router.url
    _deploy_webhook(parent, spec, context, namespace, registry, endpoints)
    batches = _batch(parent, spec, context, namespace)
    _off_hours(parent, spec, context, namespace, endpoints)
    budget = _alerts_and_budget(parent, spec, context, namespace)
    return {
        "namespace": namespace,
        "featureStore": feast_project(spec) if features is not None else None,
        "pipelineName": pipeline.base if pipeline is not None else None,
        "registryName": spec.registry.model_name,
        "registryUrl": registry.ui_url,
        "endpointNames": names,
        "endpointUrls": urls,
        "batchSchedules": {b.name: run.base for b, run in zip(spec.batch, batches, strict=True)},
        "retrainTrigger": f"{training.trigger_kind}/{training.trigger_name}" if training is not None else None,
        "budgetName": budget.rule_name,
        "prerequisites": prerequisites.chart_versions if prerequisites is not None else None,
        # Cluster-level: the API server's operators apply it (--audit-policy-file); see k8s/audit_policy.py.
        "auditPolicy": audit_policy_yaml([tenancy.physical_namespace])
        if audit_enabled(spec.audit, context.defaults)
        else None,
    }
