"""The shared ScalingTarget on a SageMaker variant: each metric in the unit SageMaker tracks it in."""

from __future__ import annotations

from typing import Any

import pytest

from mlops_infra.aws.endpoint import Endpoint
from mlops_infra.aws.endpoint_autoscaling import vcpus
from mlops_infra.testing import one, plan

KEY = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/churn/serve:1.4.2"


def scaling_policy(instance_type: str, autoscaling: dict[str, Any]) -> dict[str, Any]:
    args = {
        "kms_key_arn": KEY,
        "variants": [
            {
                "name": "main",
                "model": {"image": IMAGE, "model_data_url": "s3://churn-models/v1/model.tar.gz"},
                "instance_type": instance_type,
                "autoscaling": autoscaling,
            }
        ],
    }
    stack = plan(lambda: Endpoint("scoring", args))
    config: dict[str, Any] = one(stack, "aws:appautoscaling/policy:Policy").inputs[
        "targetTrackingScalingPolicyConfiguration"
    ]
    return config


def test_without_a_shared_target_sagemaker_tracks_invocations_per_minute():
    config = scaling_policy("ml.m5.large", {"target_invocations_per_instance": 90})
    assert config["targetValue"] == 90
    assert config["predefinedMetricSpecification"]["predefinedMetricType"] == "SageMakerVariantInvocationsPerInstance"


def test_requests_per_second_become_invocations_per_minute():
    config = scaling_policy("ml.m5.large", {"target": {"metric": "requests_per_second", "value": 2.5}})
    assert config["targetValue"] == 150
    assert config["predefinedMetricSpecification"]["predefinedMetricType"] == "SageMakerVariantInvocationsPerInstance"


def test_concurrency_tracks_concurrent_requests_per_model():
    config = scaling_policy("ml.m5.large", {"target": {"metric": "concurrency", "value": 4}})
    assert config["targetValue"] == 4
    assert config["predefinedMetricSpecification"]["predefinedMetricType"] == (
        "SageMakerVariantConcurrentRequestsPerModelHighResolution"
    )


@pytest.mark.parametrize(("instance_type", "cores"), [("ml.m5.large", 2), ("ml.c5.2xlarge", 8), ("ml.g5.xlarge", 4)])
def test_cpu_percent_is_scaled_by_the_vcpus_sagemaker_sums(instance_type, cores):
    config = scaling_policy(instance_type, {"target": {"metric": "cpu_percent", "value": 60}})
    assert config["targetValue"] == 60 * cores
    metric = config["customizedMetricSpecification"]
    assert (metric["namespace"], metric["metricName"], metric["statistic"]) == (
        "/aws/sagemaker/Endpoints",
        "CPUUtilization",
        "Average",
    )
    assert {d["name"]: d["value"] for d in metric["dimensions"]} == {
        "EndpointName": "churn-dev-scoring",
        "VariantName": "main",
    }


@pytest.mark.parametrize(
    ("instance_type", "cores"),
    [("ml.t2.medium", 1), ("ml.m5.large", 2), ("ml.m5.xlarge", 4), ("ml.m5.4xlarge", 16), ("ml.p4d.24xlarge", 96)],
)
def test_vcpus_follow_the_instance_size(instance_type, cores):
    assert vcpus(instance_type) == cores
