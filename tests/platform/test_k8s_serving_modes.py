"""Serving modes of the churn PlatformSpec on Kubernetes: challengers (A/B, shadow) behind a traffic router.

Planned offline from stacks/platform/platform.yaml with overrides (tests/platform/test_k8s_realize.py),
checked against the vendored CRD schemas, the hardened pod rules and the policy rules in prod.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from mlops_infra.engine import CapturedStack
from mlops_infra.policy.config import load_policy_config
from mlops_infra.policy.evaluate import evaluate_stack

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "k8s"))
from k8s_checks import custom_problems, manifest, stack_hardening_problems  # noqa: E402
from test_k8s_realize import ISVC, by_kind, churn_spec, realize, refused  # noqa: E402

NAMESPACE = "churn-prod-churn-ml"
CHAMPION, CHALLENGER = "churn-prod-k8s-scoring", "churn-prod-k8s-scoring-challenger"
ROUTER = "churn-prod-k8s-scoring-router"


def challenger_spec(mode: str, percent: float, router: str, **changes: Any) -> dict[str, Any]:
    spec = churn_spec(
        **{
            "endpoints.0.challenger": {
                "model": {"format": "xgboost", "format_version": "2.0", "artifact": "churn/challenger/model.tar.gz"},
                "mode": mode,
                "percent": percent,
                "compute": {"size": "medium"},
            },
            "endpoints.0.rollout": {"strategy": "all_at_once"},
            **changes,
        }
    )
    spec["k8s"]["traffic_router"] = router
    return spec


def mandatory(stack: CapturedStack) -> list[dict[str, Any]]:
    return [v.to_json() for v in evaluate_stack(stack, load_policy_config(None)) if v.enforcement == "mandatory"]


def services(stack: CapturedStack) -> dict[str, Any]:
    return {r.inputs["metadata"]["name"]: r for r in stack.by_type(ISVC)}


@pytest.fixture(scope="module", params=["gateway_api", "istio"])
def ab(request: pytest.FixtureRequest) -> CapturedStack:
    return realize(challenger_spec("ab", 10, request.param), environment="prod")


@pytest.fixture(scope="module", params=["gateway_api", "istio"])
def shadow(request: pytest.FixtureRequest) -> CapturedStack:
    return realize(challenger_spec("shadow", 25, request.param), environment="prod")


def route(stack: CapturedStack) -> Any:
    (found,) = [r for r in stack.custom_resources() if r.type.endswith((":HTTPRoute", ":VirtualService"))]
    assert found.inputs["metadata"]["name"] == ROUTER
    return found


def test_challenger_is_a_second_hardened_inference_service(ab: CapturedStack) -> None:
    isvcs = services(ab)
    assert set(isvcs) == {CHAMPION, CHALLENGER}
    champion, challenger = isvcs[CHAMPION].inputs, isvcs[CHALLENGER].inputs
    # Both run KServe Standard mode: the router targets their <isvc>-predictor Services.
    for isvc in (champion, challenger):
        assert isvc["metadata"]["annotations"]["serving.kserve.io/deploymentMode"] == "Standard"
        assert isvc["metadata"]["labels"]["networking.kserve.io/visibility"] == "cluster-local"
        assert "canaryTrafficPercent" not in isvc["spec"]["predictor"]
        assert isvc["spec"]["predictor"]["scaleMetric"] == "cpu"
        assert isvc["spec"]["predictor"]["minReplicas"] == 2  # prod floor, never 0 in Standard mode
    model = challenger["spec"]["predictor"]["model"]
    assert model["storageUri"] == "s3://acme-churn/models/churn/challenger/model.tar.gz"
    assert model["modelFormat"] == {"name": "xgboost", "version": "2.0"}
    assert model["resources"]["limits"] == {"cpu": "2", "memory": "8Gi"}  # challenger.compute: medium
    assert champion["spec"]["predictor"]["model"]["resources"]["limits"] == {"cpu": "1", "memory": "4Gi"}
    # The challenger logs what it answers to the same capture sink (the drift detector in prod).
    assert challenger["spec"]["predictor"]["logger"] == champion["spec"]["predictor"]["logger"]
    assert stack_hardening_problems(ab) == []


def test_ab_split_weights(ab: CapturedStack) -> None:
    found = route(ab)
    spec = found.inputs["spec"]
    if found.type.endswith(":HTTPRoute"):
        assert found.type == "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute"
        assert spec["parentRefs"] == [{"group": "", "kind": "Service", "name": ROUTER, "port": 80}]
        (rule,) = spec["rules"]
        assert rule["backendRefs"] == [
            {"name": f"{CHAMPION}-predictor", "port": 80, "weight": 9000},
            {"name": f"{CHALLENGER}-predictor", "port": 80, "weight": 1000},
        ]
        assert "filters" not in rule
    else:
        assert found.type == "kubernetes:networking.istio.io/v1:VirtualService"
        assert spec["hosts"] == [f"{ROUTER}.{NAMESPACE}.svc.cluster.local"]
        assert "gateways" not in spec  # mesh traffic only
        (http,) = spec["http"]
        assert [(r["destination"]["host"], r["weight"]) for r in http["route"]] == [
            (f"{CHAMPION}-predictor.{NAMESPACE}.svc.cluster.local", 90),
            (f"{CHALLENGER}-predictor.{NAMESPACE}.svc.cluster.local", 10),
        ]
        assert "mirror" not in http
    assert custom_problems(manifest(found)) == []


def test_shadow_mirrors_a_share_to_the_challenger(shadow: CapturedStack) -> None:
    found = route(shadow)
    spec = found.inputs["spec"]
    if found.type.endswith(":HTTPRoute"):
        (rule,) = spec["rules"]
        assert rule["backendRefs"] == [{"name": f"{CHAMPION}-predictor", "port": 80}]  # every answer: champion
        assert rule["filters"] == [
            {
                "type": "RequestMirror",
                "requestMirror": {"backendRef": {"name": f"{CHALLENGER}-predictor", "port": 80}, "percent": 25},
            }
        ]
    else:
        (http,) = spec["http"]
        assert [r["weight"] for r in http["route"]] == [100]
        assert http["mirror"] == {
            "host": f"{CHALLENGER}-predictor.{NAMESPACE}.svc.cluster.local",
            "port": {"number": 80},
        }
        assert http["mirrorPercentage"] == {"value": 25}
    assert custom_problems(manifest(found)) == []


def test_router_service_is_the_endpoint_address(shadow: CapturedStack) -> None:
    (service,) = [r for r in by_kind(shadow, "Service") if r.inputs["metadata"]["name"] == ROUTER]
    assert service.inputs["spec"]["type"] == "ClusterIP"
    assert service.inputs["spec"]["selector"] == {"serving.kserve.io/inferenceservice": CHAMPION}
    (policy,) = [r for r in by_kind(shadow, "NetworkPolicy") if r.inputs["metadata"]["name"] == f"{ROUTER}-clients-in"]
    selected = policy.inputs["spec"]["podSelector"]["matchExpressions"][0]["values"]
    assert selected == [CHAMPION, CHALLENGER]
    assert policy.inputs["spec"]["ingress"][0]["ports"] == [{"port": 8080, "protocol": "TCP"}]


def test_challenger_has_its_own_alerts(ab: CapturedStack) -> None:
    rules = [r for r in by_kind(ab, "PrometheusRule") if CHALLENGER in str(r.inputs["spec"])]
    assert rules, "the challenger's error-rate and latency alerts"


def test_prod_policies_pass_with_a_challenger(ab: CapturedStack, shadow: CapturedStack) -> None:
    assert mandatory(ab) == []
    assert mandatory(shadow) == []


def test_fractional_shares() -> None:
    stack = realize(challenger_spec("ab", 12.5, "gateway_api"), environment="prod")
    (rule,) = route(stack).inputs["spec"]["rules"]
    assert [b["weight"] for b in rule["backendRefs"]] == [8750, 1250]
    stack = realize(challenger_spec("shadow", 0.5, "gateway_api"), environment="prod")
    (rule,) = route(stack).inputs["spec"]["rules"]
    mirror = rule["filters"][0]["requestMirror"]
    assert mirror["fraction"] == {"numerator": 50, "denominator": 10000}
    assert "percent" not in mirror
    assert custom_problems(manifest(route(stack))) == []
    istio = realize(challenger_spec("shadow", 0.5, "istio"), environment="prod")
    assert route(istio).inputs["spec"]["http"][0]["mirrorPercentage"] == {"value": 0.5}


def test_dev_challenger_endpoints_do_not_scale_to_zero() -> None:
    stack = realize(challenger_spec("ab", 10, "gateway_api", **{"endpoints.0.rollout": None}), environment="dev")
    for isvc in stack.by_type(ISVC):
        assert isvc.inputs["spec"]["predictor"]["minReplicas"] == 1


@pytest.mark.parametrize(
    ("changes", "router", "message"),
    [
        (
            {"endpoints.0.rollout": None},
            "gateway_api",
            "endpoints.0.rollout: an endpoint with a challenger runs both models in KServe Standard mode",
        ),
        (
            {"endpoints.0.rollout": {"strategy": "canary"}},
            "gateway_api",
            "endpoints.0.rollout.strategy: an endpoint with a challenger",
        ),
        (
            {"endpoints.0.scaling": {"min_replicas": 0, "max_replicas": 2}},
            "gateway_api",
            "endpoints.0.scaling.min_replicas: an endpoint with a challenger runs both models in KServe Standard "
            "mode (Deployments behind the traffic router's Service): scale to zero needs Knative mode",
        ),
        (
            {"endpoints.0.scaling": {"target": {"metric": "concurrency", "value": 5}}},
            "gateway_api",
            "endpoints.0.scaling.target.metric: ",
        ),
        ({"endpoints.0.allow_public_access": True}, "istio", "endpoints.0.allow_public_access: the challenger's"),
        ({"endpoints.0.challenger.percent": 12.5}, "istio", "endpoints.0.challenger.percent: Istio route weights"),
        ({"endpoints.0.challenger.model.format": "custom"}, "istio", "endpoints.0.challenger.model.format: KServe"),
    ],
)
def test_check_names_the_challenger_field(changes: dict[str, Any], router: str, message: str) -> None:
    spec = challenger_spec("ab", 10, router)
    for path, value in changes.items():
        node = spec
        *parents, last = path.split(".")
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if value is None:
            node.pop(last, None)
        else:
            node[last] = value
    assert message in refused(spec)
