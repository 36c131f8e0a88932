"""What a platform spec may ask of ``k8s.serving_backend: seldon``: each unrealized combination refused by field.

Seldon Core v2 (:mod:`mlops_infra.k8s.seldon`) realizes the endpoints' model, compute, replica bounds
and challenger (an Experiment). It does not realize, so the spec is refused where it asks for:

- scale to zero (``scaling.min_replicas: 0``): Seldon Core 2.10 documents no idle scale to zero for Models;
  KServe's Knative mode has it;
- a scaling target: Seldon autoscales a Model on its inference lag, not on a chosen metric;
- a gradual rollout (canary, linear, blue/green): a Model update replaces the version in place, and the
  previous version is not known to the spec; a canary is an Experiment between the stable and the new
  version, which is what ``challenger`` (mode ab) declares;
- payload capture and drift monitoring: ``Model.spec.logger`` is in the CRD but the 2.10 scheduler does not
  apply it (payloads reach Kafka only through a Pipeline, not built here);
- an explicit ``k8s.traffic_router`` (the Experiment routes), public exposure, fractional challenger
  percents, the off-hours schedule and the deploy webhook
  (both patch KServe InferenceServices), ``custom`` model formats.
"""

from __future__ import annotations

from mlops_infra.k8s.seldon import SERVER_FOR_FORMAT
from mlops_infra.realization import RealizeContext
from mlops_infra.spec.base import field_error
from mlops_infra.spec.endpoint import EndpointSpec
from mlops_infra.spec.environment import (
    effective_approval,
    effective_data_capture,
    effective_rollout,
    monitoring_enabled,
)
from mlops_infra.spec.k8s import ServingBackend
from mlops_infra.spec.platform import PlatformSpec

SPEC = "PlatformSpec"
SELDON = "k8s.serving_backend seldon (Seldon Core v2)"
USE_KSERVE = "or set k8s.serving_backend: kserve"


def _check_endpoint(context: RealizeContext, index: int, endpoint: EndpointSpec) -> None:
    location: tuple[str | int, ...] = ("endpoints", index)
    scaling = endpoint.scaling
    if scaling is not None and scaling.min_replicas == 0:
        raise field_error(
            SPEC,
            (*location, "scaling", "min_replicas"),
            f"{SELDON} Models are not scaled to zero here (Seldon documents no idle scale to zero; KServe's Knative "
            f"mode has it): set 1 {USE_KSERVE}",
        )
    if scaling is not None and "target" in scaling.model_fields_set:
        raise field_error(
            SPEC,
            (*location, "scaling", "target"),
            f"{SELDON} autoscales a Model on its inference lag between min_replicas and max_replicas, not on a "
            f"chosen metric: remove scaling.target {USE_KSERVE}",
        )
    if effective_rollout(endpoint, context.defaults).gradual:
        field = (*location, "rollout", "strategy") if endpoint.rollout is not None else (*location, "rollout")
        raise field_error(
            SPEC,
            field,
            f"{SELDON} replaces a Model's version in place; a canary is a Seldon Experiment between the stable and "
            "the new version: declare the new version as challenger (mode ab, percent = the canary share) and set "
            f"rollout.strategy: all_at_once, {USE_KSERVE} (KServe canary with the CanaryGuard)",
        )
    if effective_data_capture(endpoint, context.defaults) is not None:
        raise field_error(
            SPEC,
            (*location, "data_capture"),
            f"{SELDON} records no Model payloads (Model.spec.logger is not applied by the 2.10 scheduler), and "
            f"{context.defaults.environment!r} captures data (set by the endpoint or the environment): "
            f"serve this endpoint with KServe (k8s.serving_backend: kserve)",
        )
    if endpoint.allow_public_access:
        raise field_error(
            SPEC,
            (*location, "allow_public_access"),
            f"{SELDON} serves through the install's cluster-internal seldon-mesh Envoy; public exposure is the "
            f"install's ingress, not realized here: remove allow_public_access {USE_KSERVE}",
        )
    for model, path in ((endpoint.model, (*location, "model", "format")),) + (
        ((endpoint.challenger.model, (*location, "challenger", "model", "format")),)
        if endpoint.challenger is not None
        else ()
    ):
        if model.format.value not in SERVER_FOR_FORMAT:
            raise field_error(
                SPEC, path, f"{SELDON} serves {', '.join(SERVER_FOR_FORMAT)} (mlserver or triton), not {model.format}"
            )
    challenger = endpoint.challenger
    if challenger is not None and challenger.percent != int(challenger.percent):
        raise field_error(
            SPEC,
            (*location, "challenger", "percent"),
            f"{SELDON} Experiment weights and mirror percent are whole numbers, not {challenger.percent} {USE_KSERVE}",
        )


def check_seldon(spec: PlatformSpec, context: RealizeContext) -> None:
    """Refuse, by field, what the Seldon backend does not realize; nothing when the backend is KServe."""
    if spec.k8s.serving_backend is not ServingBackend.SELDON or not spec.endpoints:
        return
    for index, endpoint in enumerate(spec.endpoints):
        _check_endpoint(context, index, endpoint)
    if monitoring_enabled(spec.monitoring, context.defaults) and spec.monitoring.drift is not None:
        raise field_error(
            SPEC,
            ("monitoring", "drift"),
            f"the drift detector reads the endpoints' captured payloads, which {SELDON} does not record: "
            f"remove monitoring.drift {USE_KSERVE}",
        )
    if spec.off_hours is not None and spec.off_hours.applies_to(context.defaults.environment):
        raise field_error(
            SPEC,
            ("off_hours",),
            f"the off-hours schedule patches KServe InferenceServices; {SELDON} Servers are not realized: list other "
            f"environments in off_hours.environments {USE_KSERVE}",
        )
    if "traffic_router" in spec.k8s.model_fields_set:
        raise field_error(
            SPEC,
            ("k8s", "traffic_router"),
            f"{SELDON} routes a challenger with its own Experiment (weights and mirror in Seldon's Envoy), so no "
            f"Gateway API or Istio route is built: remove k8s.traffic_router {USE_KSERVE}",
        )
    if effective_approval(spec.registry, context.defaults).deploy_webhook is not None:
        raise field_error(
            SPEC,
            ("registry", "approval", "deploy_webhook"),
            f"the deploy webhook's poller compares the approved alias with KServe InferenceServices; with {SELDON} "
            f"remove it {USE_KSERVE}",
        )
