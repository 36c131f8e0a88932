"""deployment-safety: production endpoints roll out gradually and roll back automatically.

In protected environments:
- a SageMaker endpoint updates blue/green with CANARY or LINEAR traffic shifting (or rolling) and
  auto-rollback on CloudWatch alarms (deployment guardrails);
- a Vertex AI deployment (the platform's VertexModelDeployment) shifts traffic in canary steps;
  the provider restores the previous split when a step fails;
- a KServe InferenceService (serverless mode) sets canaryTrafficPercent or a Knative rollout duration;
- a Deployment never uses the Recreate strategy and every container has a readinessProbe, so a
  bad version stops the rollout instead of taking all traffic.
"""

from __future__ import annotations

from collections.abc import Iterator

from mlops_infra.policy.context import RuleContext
from mlops_infra.policy.facts.k8s_workloads import workloads
from mlops_infra.policy.model import Finding, ResourceView
from mlops_infra.policy.rules.common import Handler, covered_types, dispatch, subject
from mlops_infra.policy.spec import PolicySpec
from mlops_infra.policy.values import get, is_set, items, known

ID = "deployment-safety"
GRADUAL = ("CANARY", "LINEAR")
KNATIVE_ROLLOUT = "serving.knative.dev/rollout-duration"
KSERVE_MODE = "serving.kserve.io/deploymentMode"
VERTEX_DEPLOYMENT = "pulumi-python:dynamic/vertex:VertexModelDeployment"


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


HANDLERS: dict[str, Handler] = {
    "aws:sagemaker/endpoint:Endpoint": _sagemaker_endpoint,
    VERTEX_DEPLOYMENT: _vertex_deployment,
    "kubernetes:serving.kserve.io/v1beta1:InferenceService": _inference_service,
    "kubernetes:apps/v1:Deployment": _deployment,
}

SPEC = PolicySpec(
    id=ID,
    title="Production endpoints roll out gradually with automatic rollback",
    description=(
        "In protected environments SageMaker endpoints use deployment guardrails (CANARY/LINEAR blue/green or rolling, "
        "with autoRollbackConfiguration alarms); Vertex deployments shift traffic in canary steps; KServe services "
        "canary new revisions; Deployments roll (never Recreate) with readiness probes."
    ),
    remediation="Set the endpoint component's rollout settings (canary share, alarms), or the properties named.",
    resource_types=covered_types(HANDLERS),
    resource_check=dispatch(HANDLERS),
    protected_only=True,
)
