"""Serving modes on GCP Vertex AI through the platform spec: what is realized, what is refused and why."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest
from test_gcp_realize import CONFIG, churn_spec

from mlops_infra.cost import load_catalogue
from mlops_infra.cost.estimate import estimate_stack
from mlops_infra.engine import ProgramError
from mlops_infra.engine.captured import CapturedStack
from mlops_infra.engine.conformance import check_stack
from mlops_infra.platform import MlPlatform
from mlops_infra.policy.evaluate import evaluate_stack
from mlops_infra.policy.model import Enforcement
from mlops_infra.testing import one, plan

DIGEST = "@sha256:" + "c" * 64
CHALLENGER_IMAGE = "europe-west4-docker.pkg.dev/churn-ml/images/churn-serve-v8" + DIGEST
RECEIVERS = {"emails": ["ml-platform@example.com"]}
DEPLOYMENT = "pulumi-python:dynamic/vertex:VertexModelDeployment"


def with_endpoint(**fields: Any) -> dict[str, Any]:
    """platform.yaml's endpoint with ``fields`` set."""
    return {"endpoints": [{**churn_spec()["endpoints"][0], **fields}]}


def challenger(**fields: Any) -> dict[str, Any]:
    return {
        "model": {"artifact": "churn/v8/model.tar.gz", "serving": {"per_cloud": {"gcp": CHALLENGER_IMAGE}}},
        **fields,
    }


def realize(environment: str, **overrides: Any) -> CapturedStack:
    spec = churn_spec(**overrides)

    def program() -> None:
        pulumi.export("platform", MlPlatform("churn", spec).outputs)

    return plan(program, environment=environment, config=CONFIG)


@pytest.fixture(scope="module")
def ab_prod() -> CapturedStack:
    # A large challenger costs about 4 x n1-standard-16 a month more: the budget makes room for it.
    return realize(
        "prod",
        alerts=RECEIVERS,
        budget={"monthly_limit_usd": 5000},
        **with_endpoint(challenger=challenger(percent=15, compute={"size": "large"})),
    )


# --- A/B -----------------------------------------------------------------------------------------


def test_ab_challenger_is_a_second_deployment_on_the_same_endpoint(ab_prod):
    deployment = one(ab_prod, DEPLOYMENT).inputs
    primary, second = deployment["deployments"]
    assert (primary["key"], second["key"]) == ("primary", "challenger")
    assert primary["model"].endswith("/models/churn-prod-churn")
    assert second["model"].endswith("/models/churn-prod-churn-scoring-challenger")
    # Both serve the version holding the approved alias: prod deploys approved versions only.
    assert primary["alias"] == second["alias"] == "champion"
    assert deployment["required_alias"] == "champion"
    # The challenger's own compute (large), one replica at least, the endpoint's most.
    assert (second["machine_type"], second["min_replica_count"], second["max_replica_count"]) == (
        "n1-standard-16",
        1,
        4,
    )
    assert primary["machine_type"] == "n1-standard-2"
    # The split is the only declared step; the champion's canary stages keep it (tests/gcp challenger tests).
    assert deployment["traffic_steps"] == [{"primary": 85, "challenger": 15}]
    assert deployment["canary_percentages"] == [10, 100]
    assert len(ab_prod.by_type("gcp:vertex/aiEndpoint:AiEndpoint")) == 1


def test_ab_challenger_is_its_own_cmek_model_in_the_registry(ab_prod):
    models = {m.name: m.inputs for m in ab_prod.by_type("pulumi-python:dynamic/vertex:VertexModel")}
    model = models["gcp-registry-model-churn-scoring-challenger"]
    assert model["artifact_uri"] == "gs://churn-prod-gcp-registry-models/churn/v8/"
    assert model["serving_image_uri"] == CHALLENGER_IMAGE
    assert model["kms_key_name"] == models["gcp-registry-model-churn"]["kms_key_name"]
    assert model["kms_key_name"].endswith("/cryptoKeys/churn-prod-gcp-key")
    # Manual approval in prod: registered as challenger until a reviewer moves the approved alias.
    assert model["version_aliases"] == ["challenger"]


def test_ab_without_own_compute_uses_the_endpoints():
    stack = realize("dev", **with_endpoint(challenger=challenger(percent=30)))
    primary, second = one(stack, DEPLOYMENT).inputs["deployments"]
    assert second["machine_type"] == primary["machine_type"] == "n1-standard-2"
    assert one(stack, DEPLOYMENT).inputs["traffic_steps"] == [{"primary": 70, "challenger": 30}]


def test_ab_in_prod_passes_the_mandatory_policies_and_the_provider_schemas(ab_prod):
    assert [v for v in evaluate_stack(ab_prod) if v.enforcement is Enforcement.MANDATORY] == []
    report = check_stack(ab_prod)
    assert report.errors == [] and report.checked > 50


def test_the_challengers_replicas_are_priced(ab_prod):
    estimate = estimate_stack(ab_prod, load_catalogue())
    item = next(i for i in estimate.items if i.type == DEPLOYMENT)
    # Champion: 4 (expected 2) x n1-standard-2; challenger: 4 (expected 1) x n1-standard-16.
    assert item.basis.count(" x 730 h") == 2
    assert "4 (expected 1) x (n1-standard-16" in item.basis
    alone = realize("prod", alerts=RECEIVERS, budget={"monthly_limit_usd": 5000})
    without = next(i for i in estimate_stack(alone, load_catalogue()).items if i.type == DEPLOYMENT)
    assert item.monthly_max > without.monthly_max * 5  # n1-standard-16 is 8 x n1-standard-2


# --- refused, with the reason ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "path", "reason"),
    [
        (
            with_endpoint(challenger=challenger(mode="shadow")),
            "endpoints.0.challenger.mode",
            "nothing on Vertex copies live requests",
        ),
        (
            with_endpoint(invocation={"kind": "async"}),
            "endpoints.0.invocation.kind",
            "no asynchronous (queued) endpoints; for large payloads or long requests declare a `batch` entry",
        ),
        (
            with_endpoint(multi_model=True, model={**churn_spec()["endpoints"][0]["model"], "artifact": "churn/"}),
            "endpoints.0.multi_model",
            "one endpoint per model, or co-host",
        ),
        (
            with_endpoint(scaling={"min_replicas": 0, "max_replicas": 2}),
            "endpoints.0.scaling.min_replicas",
            "preview in the v1beta1 API only",
        ),
        (
            with_endpoint(challenger=challenger(percent=12.5)),
            "endpoints.0.challenger.percent",
            "whole percents",
        ),
        (
            with_endpoint(challenger={"model": {"artifact": "s3://models/v8/model.tar.gz"}}),
            "endpoints.0.challenger.model.serving",
            "no challenger serving image for gcp",
        ),
        (
            with_endpoint(
                challenger=challenger(
                    model={"artifact": "s3://churn-models/v8/model.tar.gz", "serving": {"image": CHALLENGER_IMAGE}}
                )
            ),
            "endpoints.0.challenger.model.artifact",
            "not s3://",
        ),
    ],
)
def test_unrealizable_modes_are_refused_by_field_before_registering(overrides, path, reason):
    spec = churn_spec(**overrides)
    with pytest.raises(ProgramError) as info:
        plan(lambda: MlPlatform("churn", spec), environment="dev", config=CONFIG)
    message = str(info.value)
    assert path in message and reason in message, message
    assert info.value.registered == []


def test_a_tag_pinned_challenger_image_is_refused_in_prod():
    spec = churn_spec(
        alerts=RECEIVERS,
        **with_endpoint(challenger={"model": {"artifact": "churn/v8/", "serving": {"image": "ghcr.io/a/s:1.0"}}}),
    )
    with pytest.raises(ProgramError) as info:
        plan(lambda: MlPlatform("churn", spec), environment="prod", config=CONFIG)
    assert "endpoints.0.challenger.model.serving.image" in str(info.value)
    assert "digest-pinned" in str(info.value)
