"""Shared value types: each validator refuses what no cloud would accept, and accepts deploy-time Outputs."""

import pulumi
import pytest
from pydantic import TypeAdapter, ValidationError

from mlops_infra.spec import Compute, DataCapture, KeyRef, ObjectUri, PinnedImage, Rollout, Scaling
from mlops_infra.spec.alerts import Alerts
from mlops_infra.spec.base import Switch, field_error
from mlops_infra.spec.types import Arn, Percent


def refused(type_, value):
    with pytest.raises(ValidationError) as error:
        TypeAdapter(type_).validate_python(value)
    return str(error.value)


@pytest.mark.parametrize(
    ("image", "reason"),
    [
        ("repo/app:latest", "mutable 'latest' tag"),
        ("repo/app", "no tag or digest"),
        ("Repo/App:1.0", "not a container image reference"),
        ("repo/app@sha256:abc", "not a container image reference"),
        ("", "not a container image reference"),
    ],
)
def test_pinned_image_refuses_mutable_or_malformed_references(image, reason):
    assert reason in refused(PinnedImage, image)


@pytest.mark.parametrize(
    "image",
    [
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/churn/serve:1.7.6-2",
        "europe-west4-docker.pkg.dev/p/r/img@sha256:" + "a" * 64,
        "ghcr.io/org/app:v1.2.3@sha256:" + "0" * 64,
        "localhost:5000/app:1",
    ],
)
def test_pinned_image_accepts_tags_and_digests(image):
    assert TypeAdapter(PinnedImage).validate_python(image) == image


@pytest.mark.parametrize(
    ("uri", "reason"),
    [
        ("ftp://bucket/key", "must start with"),
        ("s3://B/key", "not a valid s3:// URI"),
        ("s3://ab", "not a valid s3:// URI"),
        ("gs://-bad/x", "not a valid gs:// URI"),
        ("bucket/key", "must start with"),
    ],
)
def test_object_uri_refuses_bad_schemes_and_buckets(uri, reason):
    assert reason in refused(ObjectUri, uri)


def test_object_uri_accepts_an_output_from_another_resource():
    output = pulumi.Output.from_input("s3://bucket/model")
    assert TypeAdapter(ObjectUri).validate_python(output) is output


@pytest.mark.parametrize(
    "key",
    [
        "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        "arn:aws:kms:eu-west-1:123456789012:alias/platform",
        "projects/acme-prod/locations/europe-west4/keyRings/platform/cryptoKeys/data",
    ],
)
def test_key_ref_accepts_kms_and_cloud_kms_keys(key):
    assert TypeAdapter(KeyRef).validate_python(key) == key


@pytest.mark.parametrize(
    "key", ["alias/platform", "arn:aws:s3:::bucket", "projects/p/keyRings/r", "arn:aws:kms:us-east-1:123:key/x"]
)
def test_key_ref_refuses_anything_but_a_customer_managed_key(key):
    assert "not a customer-managed key" in refused(KeyRef, key)


@pytest.mark.parametrize("arn", ["arn:aws:iam::12345:role/x", "role/x", "arn:azure:iam::123456789012:role/x"])
def test_malformed_arns_are_refused(arn):
    assert "not an AWS ARN" in refused(Arn, arn)


@pytest.mark.parametrize("value", [-0.1, 100.5, "half"])
def test_percent_is_zero_to_one_hundred(value):
    refused(Percent, value)


@pytest.mark.parametrize("value", ["yes", "true", 1, 0, "on", None])
def test_switches_are_strict_booleans(value):
    refused(Switch, value)


def test_scaling_bounds_are_ordered():
    with pytest.raises(ValidationError, match=r"min_replicas \(5\) is above max_replicas \(2\)"):
        Scaling(min_replicas=5, max_replicas=2)


def test_cpu_target_is_a_percent():
    with pytest.raises(ValidationError, match="cpu_percent target is a percent"):
        Scaling(target={"metric": "cpu_percent", "value": 250})


def test_rollout_steps_below_one_hundred_percent():
    with pytest.raises(ValidationError, match="canary_percent must be below 100"):
        Rollout(strategy="canary", canary_percent=100)
    assert Rollout(strategy="linear", step_percent=20).gradual
    assert not Rollout(strategy="all_at_once").gradual


def test_capture_must_record_something():
    with pytest.raises(ValidationError, match="nothing would be recorded"):
        DataCapture(capture_request=False, capture_response=False)


def test_alerts_use_percent_and_milliseconds():
    alerts = Alerts(error_rate_percent=2.5, p95_latency_ms=250)
    assert (alerts.error_rate_percent, alerts.p95_latency_ms) == (2.5, 250)
    with pytest.raises(ValidationError, match="less than or equal to 100"):
        Alerts(error_rate_percent=250)
    with pytest.raises(ValidationError, match="multiple of 60"):
        Alerts(period_seconds=90)


def test_compute_size_class_and_overrides():
    compute = Compute(size="gpu-small")
    assert compute.aws_instance_type() == "ml.g5.xlarge"
    assert compute.gcp_machine() == ("n1-standard-4", "NVIDIA_TESLA_T4", 1)
    assert compute.kubernetes_resources().gpu == 1
    custom = Compute(size="small", instance_type="ml.c5.2xlarge", machine_type="n2-standard-8")
    assert custom.aws_instance_type() == "ml.c5.2xlarge"
    assert custom.gcp_machine() == ("n2-standard-8", None, 0)


@pytest.mark.parametrize(
    ("override", "reason"),
    [
        ({"instance_type": "m5.large"}, "not a SageMaker instance type"),
        ({"machine_type": "huge-machine"}, "not a Vertex AI machine type"),
        ({"machine_type": "n1-standard-4", "accelerator_type": "NVIDIA_TESLA_T4"}, "go together"),
        ({"resources": {"cpu": "two", "memory": "8Gi"}}, "not a CPU quantity"),
    ],
)
def test_compute_overrides_are_validated(override, reason):
    with pytest.raises(ValidationError, match=reason):
        Compute(**override)


def test_field_error_names_the_path_without_a_value_error_prefix():
    error = field_error("PlatformSpec", ("endpoints", 0, "model", "artifact"), "gs:// artifacts cannot serve on AWS")
    assert error.errors()[0]["loc"] == ("endpoints", 0, "model", "artifact")
    assert "Value error" not in str(error)
    assert "gs:// artifacts cannot serve on AWS" in str(error)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_no_spec_number_is_nan_or_infinite(value):
    from mlops_infra.spec import MetricGate

    with pytest.raises(ValidationError, match="finite number"):
        MetricGate(threshold=value)
    with pytest.raises(ValidationError, match="finite number"):
        Alerts(p95_latency_ms=value)


def test_budget_per_cloud_ceiling_falls_back_to_the_platform_limit():
    from mlops_infra.spec import BudgetSpec, Cloud

    budget = BudgetSpec(monthly_limit_usd=1000, per_cloud_usd={"gcp": 400})
    assert (budget.limit_for(Cloud.GCP), budget.limit_for(Cloud.AWS)) == (400, 1000)
    with pytest.raises(ValidationError, match="gcp: -5 USD is not a monthly ceiling"):
        BudgetSpec(monthly_limit_usd=1000, per_cloud_usd={"gcp": -5})
