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
from k8s_checks import custom_problems, manifest, stack_hardening_problems
from test_k8s_realize import ISVC, by_kind, churn_spec, realize, refused

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


# --- scheduled batch inference ----------------------------------------------------------------------

BATCH_IMAGE = "ghcr.io/example/churn-batch@sha256:" + "b" * 64


def batch_spec(argo: bool, **entry: Any) -> dict[str, Any]:
    spec = churn_spec(
        batch=[
            {
                "name": "nightly",
                "model": {
                    "format": "xgboost",
                    "artifact": "churn/champion/model.tar.gz",
                    "serving": {"image": BATCH_IMAGE},
                },
                "input": "scoring/input/",
                "format": "csv",
                "schedule": {"cron": "0 2 * * *", "time_zone": "Europe/Berlin"},
                "compute": {"size": "medium"},
                "max_replicas": 4,
                "max_runtime_seconds": 5400,
                **entry,
            }
        ]
    )
    spec["k8s"]["data_uri"] = "s3://acme-churn/data"
    spec["k8s"]["argo_enabled"] = argo
    return spec


@pytest.fixture(scope="module", params=[False, True], ids=["cronjob", "argo"])
def batch(request: pytest.FixtureRequest) -> CapturedStack:
    return realize(batch_spec(request.param), environment="prod")


def batch_schedule(stack: CapturedStack) -> Any:
    (found,) = [r for r in stack.custom_resources() if r.name == "k8s-batch-nightly-schedule"]
    return found


def env_of(container: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}


def test_batch_runs_the_model_over_the_dataset_on_the_schedule(batch: CapturedStack) -> None:
    found = batch_schedule(batch)
    spec = found.inputs["spec"]
    assert found.inputs["metadata"]["name"] == "churn-prod-k8s-batch-nightly"
    assert spec["concurrencyPolicy"] == "Forbid"
    if found.type == "kubernetes:batch/v1:CronJob":
        assert (spec["schedule"], spec["timeZone"]) == ("0 2 * * *", "Europe/Berlin")
        job = spec["jobTemplate"]["spec"]
        assert job["activeDeadlineSeconds"] == 5400
        assert (job["completionMode"], job["completions"], job["parallelism"]) == ("Indexed", 4, 4)
        pod = job["template"]["spec"]
        (container,) = pod["containers"]
        shard_index = {"fieldRef": {"fieldPath": "metadata.annotations['batch.kubernetes.io/job-completion-index']"}}
        assert pod["automountServiceAccountToken"] is False
    else:
        assert found.type == "kubernetes:argoproj.io/v1alpha1:CronWorkflow"
        assert (spec["schedules"], spec["timezone"]) == (["0 2 * * *"], "Europe/Berlin")
        workflow = spec["workflowSpec"]
        assert (workflow["activeDeadlineSeconds"], workflow["parallelism"]) == (5400, 4)
        fan_out, shard = workflow["templates"]
        (step,) = fan_out["steps"][0]
        assert (step["template"], step["withSequence"]) == ("shard", {"count": "4"})
        container = shard["container"]
        shard_index = "{{inputs.parameters.shard}}"
        assert custom_problems(manifest(found)) == []
    assert container["image"] == BATCH_IMAGE
    assert container["resources"]["limits"] == {"cpu": "2", "memory": "8Gi"}  # compute: medium
    assert env_of(container) == {
        "HOME": "/tmp",
        "MLOPS_MODEL_URI": "s3://acme-churn/models/churn/champion/model.tar.gz",
        "MLOPS_MODEL_FORMAT": "xgboost",
        "MLOPS_INPUT_URI": "s3://acme-churn/data/scoring/input/",
        "MLOPS_OUTPUT_URI": "s3://acme-churn/data/predictions/nightly/",
        "MLOPS_FORMAT": "csv",
        "MLOPS_SHARD_COUNT": "4",
        "MLOPS_SHARD_INDEX": shard_index,
    }
    assert stack_hardening_problems(batch) == []
    assert mandatory(batch) == []


def test_batch_is_priced_per_run_and_shard(batch: CapturedStack) -> None:
    from mlops_infra.cost.catalogue import load_catalogue
    from mlops_infra.cost.estimate import estimate_stack

    estimate = estimate_stack(batch, load_catalogue())
    (item,) = [i for i in estimate.items if i.urn.endswith("k8s-batch-nightly-schedule")]
    assert "30.4 runs (0 2 * * *)" in item.basis
    assert "4 pod" in item.basis and "1.5 h deadline" in item.basis
    assert item.monthly_max > 0


def test_batch_output_and_absolute_locations() -> None:
    stack = realize(batch_spec(False, input="gs://acme-in/scores/", output="gs://acme-out/nightly/"), environment="dev")
    (container,) = batch_schedule(stack).inputs["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    env = env_of(container)
    assert (env["MLOPS_INPUT_URI"], env["MLOPS_OUTPUT_URI"]) == ("gs://acme-in/scores/", "gs://acme-out/nightly/")


def test_batch_check_names_the_field() -> None:
    spec = batch_spec(False)
    del spec["k8s"]["data_uri"]
    assert "batch.0.input: 'scoring/input/' is relative to the data store: set k8s.data_uri" in refused(spec)
    spec = batch_spec(False)
    spec["batch"][0]["model"]["serving"] = {
        "per_cloud": {"aws": "1.dkr.ecr.us-east-1.amazonaws.com/a@sha256:" + "c" * 64}
    }
    assert "batch.0.model.serving.per_cloud.k8s: no batch scoring image for Kubernetes" in refused(spec)


# --- what Kubernetes does not realize, and why --------------------------------------------------------


def test_async_and_multi_model_are_refused_with_the_reason() -> None:
    message = refused(churn_spec(**{"endpoints.0.invocation": {"kind": "async"}}))
    assert "endpoints.0.invocation.kind: async invocation is not supported on k8s: KServe answers" in message
    assert "scheduled batch (spec.batch)" in message
    spec = churn_spec(**{"endpoints.0.multi_model": True, "endpoints.0.model.artifact": "churn/models/"})
    message = refused(spec)
    assert "endpoints.0.multi_model: multi-model endpoint is not supported on k8s: KServe's multi-model" in message


def test_standard_mode_refuses_scale_to_zero_by_field() -> None:
    from pydantic import ValidationError

    from mlops_infra.k8s.endpoint import EndpointArgs

    with pytest.raises(
        ValidationError, match=r"min_replicas\n  Value error, scale to zero \(0\) needs deployment_mode"
    ):
        EndpointArgs.model_validate(
            {
                "namespace": "ml",
                "model_format": "sklearn",
                "storage_uri": "s3://m/churn/v7",
                "deployment_mode": "Standard",
                "scale_metric": "cpu",
                "min_replicas": 0,
            }
        )
