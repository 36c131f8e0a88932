"""deployment-safety: production endpoints roll out gradually and roll back automatically.

In protected environments:
- a SageMaker endpoint updates blue/green with CANARY or LINEAR traffic shifting (or rolling) and
  auto-rollback on CloudWatch alarms (deployment guardrails);
- a Vertex AI deployment (the platform's VertexModelDeployment) shifts traffic in canary steps and
  sets ``rollback_metrics`` (error-rate / p95-latency thresholds the provider reads from Cloud
  Monitoring after each step; a breach restores the previous split);
- a KServe InferenceService (serverless mode) sets canaryTrafficPercent or a Knative rollout duration,
  and (stack rule) something promotes or rolls it back on metrics: a CanaryGuard (its CronJob's
  ``mlops-infra/guards-inference-services`` annotation names the service), a Flagger ``Canary``
  targeting it with analysis metrics, or an Argo Rollouts ``AnalysisTemplate`` whose metrics query it;
- a Deployment never uses the Recreate strategy and every container has a readinessProbe, so a
  bad version stops the rollout instead of taking all traffic.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from mlops_infra.conventions.markers import GUARDS_INFERENCE_SERVICES_MARKER
from mlops_infra.policy.context import RuleContext, StackContext
from mlops_infra.policy.correlation import mentions
from mlops_infra.policy.facts.k8s_workloads import workloads
from mlops_infra.policy.model import Finding, ResourceView, StackView
from mlops_infra.policy.rules.common import Handler, covered_types, dispatch, subject
from mlops_infra.policy.spec import PolicySpec
from mlops_infra.policy.values import get, is_set, items, known

ID = "deployment-safety"
GRADUAL = ("CANARY", "LINEAR")
KNATIVE_ROLLOUT = "serving.knative.dev/rollout-duration"
KSERVE_MODE = "serving.kserve.io/deploymentMode"
VERTEX_DEPLOYMENT = "pulumi-python:dynamic/vertex:VertexModelDeployment"
INFERENCE_SERVICE = "kubernetes:serving.kserve.io/v1beta1:InferenceService"
FLAGGER_CANARY = "kubernetes:flagger.app/v1beta1:Canary"
ANALYSIS_TEMPLATES = (
    "kubernetes:argoproj.io/v1alpha1:AnalysisTemplate",
    "kubernetes:argoproj.io/v1alpha1:ClusterAnalysisTemplate",
)
ROLLBACK_METRICS = ("error_rate_percent", "p95_latency_ms")


def _sagemaker_endpoint(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    base = "deploymentConfig"
    routing = known(
        get(view.props, f"{base}.blueGreenUpdatePolicy.trafficRoutingConfiguration.type"),
        f"{base}.blueGreenUpdatePolicy.trafficRoutingConfiguration.type",
    )
    rolling = is_set(get(view.props, f"{base}.rollingUpdatePolicy"))
    if routing not in GRADUAL and not rolling:
        yield Finding(
            f"{subject(view)} (production): updates shift all traffic at once ({routing or 'no deploymentConfig'}). "
            f"Set {base}.blueGreenUpdatePolicy.trafficRoutingConfiguration.type to CANARY or LINEAR, or set "
            f"{base}.rollingUpdatePolicy."
        )
    alarms = f"{base}.autoRollbackConfiguration.alarms"
    if not items(get(view.props, alarms), alarms):
        yield Finding(
            f"{subject(view)} (production): a failed rollout is not reverted automatically. Configure "
            f"{alarms} to the endpoint's error and latency alarms."
        )


def _vertex_deployment(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    steps = [known(p, "canary_percentages") for p in items(view.props.get("canary_percentages"), "canary_percentages")]
    if not any(isinstance(p, (int, float)) and 0 < p < 100 for p in steps):
        yield Finding(
            f"{subject(view)} (production): a new version takes 100% of traffic at once. Set "
            "canary_percentages to gradual steps (for example [10, 50, 100])."
        )
    gate = known(view.props.get("rollback_metrics"), "rollback_metrics")
    if not (isinstance(gate, Mapping) and any(is_set(gate.get(k)) for k in ROLLBACK_METRICS)):
        yield Finding(
            f"{subject(view)} (production): a canary step that breaks latency or errors is not rolled back: "
            "rollback_metrics is not set, so only API errors restore the previous split. Set rollback_metrics "
            "{error_rate_percent, p95_latency_ms} (the endpoint's alert thresholds; the mlops_infra.gcp Endpoint "
            "does with rollback_on_alerts)."
        )


def _inference_service(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    annotations = view.annotations()
    if str(annotations.get(KSERVE_MODE, "")).lower() in ("rawdeployment", "standard"):
        return  # a plain Deployment: rolls out with KServe's readiness probes
    canary = known(get(view.props, "spec.predictor.canaryTrafficPercent"), "spec.predictor.canaryTrafficPercent")
    if canary is None and not is_set(annotations.get(KNATIVE_ROLLOUT)):
        yield Finding(
            f"{subject(view)} (production): a new revision takes all traffic as soon as it is ready. Set "
            f"spec.predictor.canaryTrafficPercent (for example 10) or the {KNATIVE_ROLLOUT} annotation."
        )


def _deployment(view: ResourceView, ctx: RuleContext) -> Iterator[Finding]:
    if known(get(view.props, "spec.strategy.type"), "spec.strategy.type") == "Recreate":
        yield Finding(
            f"{subject(view)} (production): spec.strategy.type Recreate stops every pod before starting the "
            "new version. Use RollingUpdate (maxUnavailable 0, maxSurge 1)."
        )
    for _, containers in workloads(view.type, view.props):
        for container in containers:
            if ".initContainers[" in container.path or ".ephemeralContainers[" in container.path:
                continue
            if not is_set(container.spec.get("readinessProbe")):
                yield Finding(
                    f"{subject(view)} (production): {container.path} {container.name} has no readinessProbe, "
                    "so a broken version receives traffic. Add readinessProbe."
                )


def _gradual_kserve(view: ResourceView) -> bool:
    """A serverless InferenceService that rolls out gradually (canaryTrafficPercent or a rollout duration)."""
    annotations = view.annotations()
    if str(annotations.get(KSERVE_MODE, "")).lower() in ("rawdeployment", "standard"):
        return False
    canary = known(get(view.props, "spec.predictor.canaryTrafficPercent"), "spec.predictor.canaryTrafficPercent")
    return canary is not None or is_set(annotations.get(KNATIVE_ROLLOUT))


def _guarded(stack: StackView, service: ResourceView) -> bool:
    """A CanaryGuard marker, a Flagger Canary or an Argo Rollouts AnalysisTemplate gates ``service``."""
    name, namespace = service.k8s_name(), service.k8s_namespace()
    for other in stack.resources:
        if other.package != "kubernetes" or other.urn == service.urn:
            continue
        same_namespace = other.k8s_namespace() == namespace
        marker = known(other.annotations().get(GUARDS_INFERENCE_SERVICES_MARKER), GUARDS_INFERENCE_SERVICES_MARKER)
        if same_namespace and isinstance(marker, str) and name in {n.strip() for n in marker.split(",")}:
            return True
        if (
            other.type == FLAGGER_CANARY
            and same_namespace
            and get(other.props, "spec.targetRef.name") == name
            and is_set(get(other.props, "spec.analysis.metrics"))
        ):
            return True
        template_in_reach = same_namespace or other.type.endswith("ClusterAnalysisTemplate")
        if (
            other.type in ANALYSIS_TEMPLATES
            and template_in_reach
            and mentions(get(other.props, "spec.metrics"), {name})
        ):
            return True
    return False


def kserve_metric_rollback(stack: StackView, ctx: StackContext) -> Iterator[Finding]:
    """deployment-safety (stack): a gradual KServe rollout in production is promoted/rolled back on metrics."""
    for service in stack.by_type(INFERENCE_SERVICE):
        if not ctx.protected(service):
            continue
        with ctx.unknowns(service.urn):
            if _gradual_kserve(service) and not _guarded(stack, service):
                yield Finding(
                    f"{subject(service)} (production): its canary is never rolled back on metrics (KServe keeps "
                    "canaryTrafficPercent until someone moves it). Add a mlops_infra.k8s CanaryGuard for it (its "
                    f"CronJob carries the {GUARDS_INFERENCE_SERVICES_MARKER} annotation naming the service), a "
                    "Flagger Canary targeting it with spec.analysis.metrics, or an Argo Rollouts AnalysisTemplate "
                    "whose metrics query it.",
                    urn=service.urn,
                    resource_type=service.type,
                )


HANDLERS: dict[str, Handler] = {
    "aws:sagemaker/endpoint:Endpoint": _sagemaker_endpoint,
    VERTEX_DEPLOYMENT: _vertex_deployment,
    INFERENCE_SERVICE: _inference_service,
    "kubernetes:apps/v1:Deployment": _deployment,
}

SPEC = PolicySpec(
    id=ID,
    title="Production endpoints roll out gradually with automatic rollback",
    description=(
        "In protected environments SageMaker endpoints use deployment guardrails (CANARY/LINEAR blue/green or rolling, "
        "with autoRollbackConfiguration alarms); Vertex deployments shift traffic in canary steps gated by "
        "rollback_metrics; KServe canaries are promoted and rolled back on metrics (CanaryGuard, Flagger or Argo "
        "Rollouts analysis); Deployments roll (never Recreate) with readiness probes."
    ),
    remediation="Set the endpoint component's rollout settings (canary share, alarms), or the properties named.",
    resource_types={
        **covered_types(HANDLERS),
        "kubernetes": tuple(sorted((*covered_types(HANDLERS)["kubernetes"], FLAGGER_CANARY, *ANALYSIS_TEMPLATES))),
    },
    resource_check=dispatch(HANDLERS),
    stack_check=kserve_metric_rollback,
    protected_only=True,
)
