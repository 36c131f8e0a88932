"""The serving modes of EndpointSpec realized on SageMaker: async, A/B and shadow challengers, multi-model.

Each test plans platform.yaml on AWS with one endpoint's mode changed and asserts the wiring that
makes the mode work and safe: KMS on outputs, topics, scaling policies, weights, mirrors, IAM scope,
result expiry, and what SageMaker (or the platform's guardrails) refuses, by field, before anything registers.
"""

from __future__ import annotations

from typing import Any

import pytest
from test_aws_realize import PACKAGE_VERSION, outputs, protected, realize

from mlops_infra.engine import ProgramError
from mlops_infra.engine.captured import CapturedStack
from mlops_infra.policy.evaluate import evaluate_stack
from mlops_infra.policy.model import Enforcement
from mlops_infra.testing import iam_statements, one

CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
MODEL = "aws:sagemaker/model:Model"
TARGET = "aws:appautoscaling/target:Target"
POLICY = "aws:appautoscaling/policy:Policy"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
TOPIC = "aws:sns/topic:Topic"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
ENDPOINT = "aws:sagemaker/endpoint:Endpoint"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/churn/xgboost-serve@sha256:" + "0" * 64
CHALLENGER_IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/churn/xgboost-serve@sha256:" + "1" * 64


def scoring(**changes: Any) -> dict[str, Any]:
    """The churn scoring endpoint with ``changes``; a list replaces platform.yaml's endpoints."""
    endpoint: dict[str, Any] = {
        "name": "scoring",
        "model": {"format": "xgboost", "artifact": "churn/champion/model.tar.gz", "serving": {"image": IMAGE}},
        "compute": {"size": "small"},
        "alerts": {"error_rate_percent": 1, "p95_latency_ms": 300},
    }
    return {"endpoints": [{**endpoint, **changes}]}


def challenger(mode: str, percent: float, **extra: Any) -> dict[str, Any]:
    return {
        "challenger": {
            "model": {"artifact": "churn/candidate/model.tar.gz", "serving": {"image": CHALLENGER_IMAGE}},
            "mode": mode,
            "percent": percent,
            **extra,
        }
    }


def mandatory(stack: CapturedStack) -> list[str]:
    return [f"{v.policy_id}: {v.message}" for v in evaluate_stack(stack) if v.enforcement is Enforcement.MANDATORY]


def by_name(stack: CapturedStack, type_: str) -> dict[str, Any]:
    return {r.name: r for r in stack.by_type(type_)}


# --- async ------------------------------------------------------------------------------------------------

ASYNC = {"kind": "async", "backlog_per_replica": 3, "max_concurrent_per_replica": 2, "result_retention_days": 7}


@pytest.fixture(scope="module")
def async_dev() -> CapturedStack:
    return realize("dev", **scoring(invocation=ASYNC))


@pytest.fixture(scope="module")
def async_prod() -> CapturedStack:
    return protected("prod", **scoring(invocation=ASYNC))


def test_async_results_are_kms_encrypted_under_the_model_store(async_dev):
    key = outputs(async_dev)["keyArn"]
    config = one(async_dev, CONFIG).inputs["asyncInferenceConfig"]
    output = config["outputConfig"]
    assert output["kmsKeyId"] == key
    store = "s3://churn-dev-aws-model-store-123456789012-us-east-1"
    assert output["s3OutputPath"] == f"{store}/async/scoring/results"
    assert output["s3FailurePath"] == f"{store}/async/scoring/errors"
    assert config["clientConfig"] == {"maxConcurrentInvocationsPerInstance": 2}


def test_async_errors_reach_the_warning_alerts_and_successes_a_kms_topic(async_dev):
    key = outputs(async_dev)["keyArn"]
    notification = one(async_dev, CONFIG).inputs["asyncInferenceConfig"]["outputConfig"]["notificationConfig"]
    topics = by_name(async_dev, TOPIC)
    # Errors go to the platform's warning alert topic (e-mailed, Slack), successes to the endpoint's own topic.
    assert notification["errorTopic"].endswith(":churn-dev-aws-alerts")
    assert notification["successTopic"].endswith(":churn-dev-aws-scoring-async-success")
    assert topics["aws-scoring-async-success"].inputs["kmsMasterKeyId"] == key
    assert topics["aws-alerts-topic"].inputs["kmsMasterKeyId"] == key
    # The endpoint's role writes results only under its prefixes and publishes only to those two topics.
    role_policy = by_name(async_dev, "aws:iam/rolePolicy:RolePolicy")["aws-scoring-role-policy"]
    statements = {s["Sid"]: s for s in iam_statements(role_policy)}
    assert statements["WriteAsyncResults"]["Action"] == ["s3:PutObject"]
    assert sorted(statements["WriteAsyncResults"]["Resource"]) == [
        "arn:aws:s3:::churn-dev-aws-model-store-123456789012-us-east-1/async/scoring/errors/*",
        "arn:aws:s3:::churn-dev-aws-model-store-123456789012-us-east-1/async/scoring/results/*",
    ]
    assert statements["NotifyAsyncOutcomes"]["Action"] == ["sns:Publish"]
    assert sorted(statements["NotifyAsyncOutcomes"]["Resource"]) == sorted(
        [notification["errorTopic"], notification["successTopic"]]
    )


def test_async_scales_on_the_backlog_and_from_zero(async_dev):
    target = one(async_dev, TARGET).inputs
    assert (target["minCapacity"], target["maxCapacity"]) == (0, 2)  # dev scales to zero
    assert one(async_dev, ENDPOINT).inputs["name"] == "churn-dev-aws-scoring"
    assert one(async_dev, CONFIG).inputs["productionVariants"][0]["initialInstanceCount"] == 1
    policies = by_name(async_dev, POLICY)
    tracking = policies["aws-scoring-champion-scaling-policy"].inputs
    assert tracking["policyType"] == "TargetTrackingScaling"
    configuration = tracking["targetTrackingScalingPolicyConfiguration"]
    assert configuration["targetValue"] == 3
    metric = configuration["customizedMetricSpecification"]
    assert (metric["namespace"], metric["metricName"], metric["statistic"]) == (
        "AWS/SageMaker",
        "ApproximateBacklogSizePerInstance",
        "Average",
    )
    assert metric["dimensions"] == [{"name": "EndpointName", "value": "churn-dev-aws-scoring"}]
    step = policies["aws-scoring-champion-scale-from-zero"].inputs
    assert step["policyType"] == "StepScaling"
    assert step["stepScalingPolicyConfiguration"]["adjustmentType"] == "ChangeInCapacity"
    assert step["stepScalingPolicyConfiguration"]["stepAdjustments"] == [
        {"metricIntervalLowerBound": "0", "scalingAdjustment": 1}
    ]
    alarm = by_name(async_dev, ALARM)["aws-scoring-champion-backlog-without-capacity"].inputs
    assert (alarm["namespace"], alarm["metricName"]) == ("AWS/SageMaker", "HasBacklogWithoutCapacity")
    assert alarm["dimensions"] == {"EndpointName": "churn-dev-aws-scoring"}
    assert alarm["comparisonOperator"] == "GreaterThanOrEqualToThreshold" and alarm["threshold"] == 1
    # The alarm runs the step policy and tells the warning topic (so it reaches a person, alert-routing).
    assert any(a.startswith("arn:aws:appautoscaling:") and a.endswith("-from-zero") for a in alarm["alarmActions"])
    assert any(a.endswith(":churn-dev-aws-alerts") for a in alarm["alarmActions"])


def test_async_results_expire_after_the_retention(async_dev):
    lifecycle = by_name(async_dev, LIFECYCLE)["aws-model-store-lifecycle"].inputs
    # The async results' expiry, next to the bucket-wide archive rule (lifecycle.archive_after_days).
    (rule,) = [r for r in lifecycle["rules"] if r["filter"].get("prefix") == "async/scoring/"]
    assert any("transitions" in r and not r["filter"].get("prefix") for r in lifecycle["rules"])
    assert rule["expiration"]["days"] == 7
    assert rule["noncurrentVersionExpiration"]["noncurrentDays"] == 1
    assert rule["status"] == "Enabled"


def test_async_in_prod_keeps_two_instances_for_the_canary_and_passes_policy(async_prod):
    target = one(async_prod, TARGET).inputs
    assert target["minCapacity"] == 2  # prod's default floor; canary needs two
    assert "aws-scoring-champion-scale-from-zero" not in by_name(async_prod, POLICY)
    routing = one(async_prod, ENDPOINT).inputs["deploymentConfig"]["blueGreenUpdatePolicy"]
    assert routing["trafficRoutingConfiguration"]["type"] == "CANARY"
    assert mandatory(async_prod) == []


def test_realtime_endpoints_gain_nothing_async(async_dev):
    stack = realize("dev")
    assert "asyncInferenceConfig" not in one(stack, CONFIG).inputs
    rules = by_name(stack, LIFECYCLE)["aws-model-store-lifecycle"].inputs["rules"]
    assert not any("expiration" in r for r in rules)  # the archive rule only: nothing in the store expires
    assert "aws-scoring-async-success" not in by_name(stack, TOPIC)


# --- challengers ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ab_prod() -> CapturedStack:
    return protected(
        "prod",
        aws={"approved_challenger_packages": {"scoring": PACKAGE_VERSION + 1}},
        **scoring(**challenger("ab", 20)),
    )


def test_ab_challenger_is_a_second_weighted_production_variant(ab_prod):
    config = one(ab_prod, CONFIG).inputs
    variants = {v["variantName"]: v for v in config["productionVariants"]}
    assert set(variants) == {"champion", "challenger"}
    assert variants["champion"]["initialVariantWeight"] == pytest.approx(0.8)
    assert variants["challenger"]["initialVariantWeight"] == pytest.approx(0.2)
    assert "shadowProductionVariants" not in config
    models = by_name(ab_prod, MODEL)
    champion = models["aws-scoring-model-champion"].inputs["primaryContainer"]["modelPackageName"]
    candidate = models["aws-scoring-model-challenger"].inputs["primaryContainer"]["modelPackageName"]
    assert champion.endswith(f"/{PACKAGE_VERSION}") and candidate.endswith(f"/{PACKAGE_VERSION + 1}")
    # Both variants scale, and the rollout's rollback watches both variants' alarms.
    targets = {t.inputs["resourceId"] for t in ab_prod.by_type(TARGET)}
    assert targets == {
        "endpoint/churn-prod-aws-scoring/variant/champion",
        "endpoint/churn-prod-aws-scoring/variant/challenger",
    }
    rollback = one(ab_prod, ENDPOINT).inputs["deploymentConfig"]["autoRollbackConfiguration"]["alarms"]
    names = {a["alarmName"] for a in rollback}
    assert len(names) == 6
    assert sum("-scoring-champion-" in n for n in names) == sum("-scoring-challenger-" in n for n in names) == 3
    assert mandatory(ab_prod) == []


def test_shadow_challenger_mirrors_the_percent_and_stays_guarded():
    stack = protected(
        "prod",
        aws={"approved_challenger_packages": {"scoring": PACKAGE_VERSION + 1}},
        **scoring(**challenger("shadow", 25)),
    )
    config = one(stack, CONFIG).inputs
    (production,) = config["productionVariants"]
    (shadow,) = config["shadowProductionVariants"]
    assert production["initialVariantWeight"] == 1.0
    assert shadow["variantName"] == "challenger" and shadow["initialVariantWeight"] == pytest.approx(0.25)
    # Data capture records the shadow's traffic too; the canary's rollback alarms cover both variants.
    assert config["dataCaptureConfig"]["enableCapture"] is True
    rollback = one(stack, ENDPOINT).inputs["deploymentConfig"]["autoRollbackConfiguration"]["alarms"]
    assert any("challenger" in a["alarmName"] for a in rollback)
    assert any("champion" in a["alarmName"] for a in rollback)
    assert mandatory(stack) == []


def test_challenger_compute_defaults_to_the_endpoints():
    stack = realize("dev", **scoring(**challenger("ab", 10, compute={"size": "medium"})))
    variants = {v["variantName"]: v for v in one(stack, CONFIG).inputs["productionVariants"]}
    assert variants["champion"]["instanceType"] == "ml.m5.large"
    assert variants["challenger"]["instanceType"] == "ml.m5.xlarge"
    model = by_name(stack, MODEL)["aws-scoring-model-challenger"].inputs["primaryContainer"]
    assert model["image"] == CHALLENGER_IMAGE
    assert model["modelDataUrl"] == "s3://churn-dev-aws-model-store-123456789012-us-east-1/churn/candidate/model.tar.gz"


# --- multi-model ------------------------------------------------------------------------------------------


def test_multi_model_container_reads_the_prefix():
    model = {"format": "xgboost", "artifact": "churn/per-region/", "serving": {"image": IMAGE}}
    stack = realize("dev", **scoring(model=model, multi_model=True))
    container = one(stack, MODEL).inputs["primaryContainer"]
    assert container["mode"] == "MultiModel"
    assert container["modelDataUrl"] == "s3://churn-dev-aws-model-store-123456789012-us-east-1/churn/per-region/"
    # The role reads every archive under the prefix, nothing else of the store.
    role_policy = by_name(stack, "aws:iam/rolePolicy:RolePolicy")["aws-scoring-role-policy"]
    reads = {s["Sid"]: s for s in iam_statements(role_policy)}["ReadModelArtifacts"]["Resource"]
    assert reads in (
        "arn:aws:s3:::churn-dev-aws-model-store-123456789012-us-east-1/churn/per-region/*",
        ["arn:aws:s3:::churn-dev-aws-model-store-123456789012-us-east-1/churn/per-region/*"],
    )


# --- refusals ---------------------------------------------------------------------------------------------

MULTI = {"model": {"artifact": "churn/per-region/", "serving": {"image": IMAGE}}, "multi_model": True}


@pytest.mark.parametrize(
    ("environment", "overrides", "path", "reason"),
    [
        (
            "dev",
            {**scoring(invocation=ASYNC), "aws": {"model_store_uri": "s3://other-bucket/models"}},
            "endpoints.0.invocation.result_retention_days",
            "not this stack's",
        ),
        ("prod", scoring(**MULTI), "endpoints.0.multi_model", "registry cannot approve"),
        (
            "dev",
            {**scoring(**MULTI), "monitoring": {"enabled": True}},
            "endpoints.0.multi_model",
            "Model Monitor watches endpoints that host one model",
        ),
        ("dev", scoring(**MULTI, compute={"instance_type": "ml.inf1.xlarge"}), "endpoints.0", "Inferentia"),
        ("prod", scoring(**challenger("ab", 10)), "aws.approved_challenger_packages.scoring", "unregistered"),
        (
            "dev",
            {**scoring(), "aws": {"approved_challenger_packages": {"scoring": 3}}},
            "aws.approved_challenger_packages.scoring",
            "not an endpoint with a challenger",
        ),
        (
            "dev",
            scoring(scaling={"min_replicas": 0, "max_replicas": 2}),
            "endpoints.0.scaling.min_replicas",
            "only invocation kind async can",
        ),
        (
            "prod",
            scoring(invocation=ASYNC, scaling={"min_replicas": 0, "max_replicas": 2}),
            "endpoints.0.scaling.min_replicas",
            "at least 2 instances",
        ),
    ],
)
def test_what_sagemaker_cannot_do_is_refused_by_field(environment, overrides, path, reason):
    run = realize if environment == "dev" else protected
    with pytest.raises(ProgramError) as info:
        run(environment, **overrides)
    assert path in str(info.value) and reason in str(info.value)
    assert info.value.registered == []
