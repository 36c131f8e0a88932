"""The churn PlatformSpec with ``k8s.serving_backend: seldon``: Seldon Core v2 Models, Servers and Experiments.

Planned offline from stacks/platform/platform.yaml (tests/platform/test_k8s_realize.py), checked against the
vendored Seldon CRD schemas, the hardened pod rules and the guardrail policies; what Seldon cannot realize
is refused by field before anything registers.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from mlops_infra.engine import CapturedStack
from mlops_infra.policy.evaluate import evaluate_stack

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "k8s"))
from k8s_checks import stack_hardening_problems, validate_custom
from test_k8s_realize import ISVC, RULE, churn_spec, realize, refused

MODEL = "kubernetes:mlops.seldon.io/v1alpha1:Model"
SERVER = "kubernetes:mlops.seldon.io/v1alpha1:Server"
EXPERIMENT = "kubernetes:mlops.seldon.io/v1alpha1:Experiment"
CHAMPION = "churn-dev-k8s-scoring"


def seldon_spec(**changes: Any) -> dict[str, Any]:
    spec = churn_spec(**changes)
    spec["k8s"]["serving_backend"] = "seldon"
    return spec


CHALLENGER = {
    "model": {"format": "xgboost", "artifact": "churn/challenger/model.tar.gz"},
    "mode": "ab",
    "percent": 10,
}


@pytest.fixture(scope="module")
def ab() -> CapturedStack:
    return realize(seldon_spec(**{"endpoints.0.challenger": CHALLENGER}), environment="dev")


def test_endpoint_is_a_seldon_model_on_its_server(ab: CapturedStack) -> None:
    assert not ab.by_type(ISVC)
    assert not ab.by_type("mlops-infra:k8s:CanaryGuard") and not ab.by_type("mlops-infra:k8s:TrafficRouter")
    models = {m.inputs["metadata"]["name"]: m.inputs["spec"] for m in ab.by_type(MODEL)}
    champion = models[CHAMPION]
    assert champion["storageUri"].endswith("/churn/champion/model.tar.gz")
    assert champion["requirements"] == ["xgboost"] and champion["server"] == CHAMPION
    assert champion["replicas"] >= 1  # dev: no scale to zero on Seldon
    servers = {s.inputs["metadata"]["name"]: s.inputs["spec"] for s in ab.by_type(SERVER)}
    assert set(servers) == {CHAMPION, f"{CHAMPION}-challenger"}
    assert {s["serverConfig"] for s in servers.values()} == {"mlserver"}
    experiment = ab.by_type(EXPERIMENT)[0].inputs["spec"]
    assert experiment["default"] == CHAMPION
    assert experiment["candidates"] == [
        {"name": CHAMPION, "weight": 90},
        {"name": f"{CHAMPION}-challenger", "weight": 10},
    ]


def test_alerts_watch_each_seldon_server(ab: CapturedStack) -> None:
    exprs = [r["expr"] for rule in ab.by_type(RULE) for g in rule.inputs["spec"]["groups"] for r in g["rules"]]
    for server in (CHAMPION, f"{CHAMPION}-challenger"):
        assert any(f'server="{server}"' in e and "seldon_model_infer_api_seconds_bucket" in e for e in exprs)


def test_manifests_valid_hardened_and_guardrails_pass(ab: CapturedStack) -> None:
    assert validate_custom(ab) == []
    assert stack_hardening_problems(ab) == []
    guardrails = {"k8s-pod-security", "k8s-namespace-guardrails"}
    assert [v.to_json() for v in evaluate_stack(ab) if v.policy_id in guardrails] == []


def test_shadow_challenger_is_a_mirror() -> None:
    stack = realize(
        seldon_spec(**{"endpoints.0.challenger": {**CHALLENGER, "mode": "shadow", "percent": 30}}), environment="dev"
    )
    experiment = stack.by_type(EXPERIMENT)[0].inputs["spec"]
    assert experiment["candidates"] == [{"name": CHAMPION, "weight": 100}]
    assert experiment["mirror"] == {"name": f"{CHAMPION}-challenger", "percent": 30}


@pytest.mark.parametrize(
    ("environment", "changes", "field", "reason"),
    [
        ("prod", {}, "endpoints.0.rollout", "a canary is a Seldon Experiment"),
        ("prod", {"endpoints.0.rollout": {"strategy": "all_at_once"}}, "endpoints.0.data_capture", "no Model payloads"),
        ("dev", {"endpoints.0.scaling": {"min_replicas": 0, "max_replicas": 2}}, "scaling.min_replicas", "to zero"),
        (
            "dev",
            {"endpoints.0.scaling": {"max_replicas": 2, "target": {"metric": "cpu_percent", "value": 60}}},
            "endpoints.0.scaling.target",
            "inference lag",
        ),
        ("dev", {"endpoints.0.challenger": {**CHALLENGER, "percent": 12.5}}, "challenger.percent", "whole numbers"),
        ("dev", {"endpoints.0.allow_public_access": True}, "endpoints.0.allow_public_access", "seldon-mesh"),
        ("dev", {"monitoring.enabled": True}, "monitoring.drift", "does not record"),
        ("dev", {"k8s.traffic_router": "istio"}, "k8s.traffic_router", "its own Experiment"),
    ],
)
def test_unrealized_combinations_are_refused_by_field(
    environment: str, changes: dict[str, Any], field: str, reason: str
) -> None:
    message = refused(seldon_spec(**changes), environment=environment)
    assert field in message and reason in message and "seldon" in message
