"""Tags and labels go only where a type keeps its own resource labels, under that type's property name."""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata

import pulumi
import pytest

from mlops_infra.conventions import taggable
from mlops_infra.conventions.taggable import PROPERTY_OVERRIDES, _resource_class, tag_property
from mlops_infra.conventions.transform import tagged_props
from mlops_infra.engine import run_function
from mlops_infra.engine.fake_state import fake_resource_state
from mlops_infra.engine.monitor import DeterministicMocks
from mlops_infra.policy.evaluate import evaluate_stack

TAGS = {"project": "churn", "environment": "dev", "owner": "ml", "cost-center": "cc-1"}


@pytest.mark.parametrize(
    ("type_token", "expected"),
    [
        ("aws:sagemaker/endpoint:Endpoint", "tags"),
        ("aws:s3/bucketPolicy:BucketPolicy", None),
        ("aws:autoscaling/group:Group", None),  # tags is a list of {key, value, propagateAtLaunch}
        ("aws:devopsguru/resourceCollection:ResourceCollection", None),  # tags is a filter block
        ("gcp:vertex/aiEndpoint:AiEndpoint", "labels"),
        ("gcp:compute/instance:Instance", "labels"),  # tags are network tags (a list)
        ("gcp:monitoring/notificationChannel:NotificationChannel", "userLabels"),  # labels are settings
        ("gcp:monitoring/alertPolicy:AlertPolicy", "userLabels"),
        ("gcp:monitoring/uptimeCheckConfig:UptimeCheckConfig", "userLabels"),
        ("gcp:monitoring/slo:Slo", "userLabels"),
        ("gcp:monitoring/metricDescriptor:MetricDescriptor", None),  # labels are label descriptors
        ("gcp:deploymentmanager/deployment:Deployment", None),
        ("gcp:container/cluster:Cluster", "resourceLabels"),
        ("kubernetes:apps/v1:Deployment", "metadata.labels"),
    ],
)
def test_the_label_property_is_the_types_own(type_token, expected):
    assert tag_property(type_token) == expected


def test_every_override_names_a_real_type():
    for type_token in PROPERTY_OVERRIDES:
        assert _resource_class(type_token) is not None, type_token


def test_notification_channel_settings_are_left_alone():
    props = {"type": "email", "labels": {"email_address": "ml@example.com"}}
    tagged = tagged_props("gcp:monitoring/notificationChannel:NotificationChannel", props, TAGS)
    assert tagged["labels"] == {"email_address": "ml@example.com"}
    assert tagged["userLabels"] == {"project": "churn", "environment": "dev", "owner": "ml", "cost-center": "cc-1"}


def test_gcp_user_labels_are_made_label_safe():
    tagged = tagged_props("gcp:monitoring/alertPolicy:AlertPolicy", {}, {**TAGS, "owner": "ML Platform"})
    assert tagged["userLabels"]["owner"] == "ml_platform"


def test_list_shaped_labels_and_tags_are_never_written():
    descriptors = [{"key": "model", "valueType": "STRING"}]
    props = {"labels": descriptors}
    assert tagged_props("gcp:monitoring/metricDescriptor:MetricDescriptor", props, TAGS) == props
    blocks = [{"key": "team", "value": "ml", "propagateAtLaunch": True}]
    assert tagged_props("aws:autoscaling/group:Group", {"tags": blocks}, TAGS) == {"tags": blocks}


def _monitoring_program() -> None:
    import pulumi_gcp as gcp

    from mlops_infra.conventions import init_platform

    init_platform(environment="dev", owner="ml", costCenter="cc-1")
    gcp.monitoring.MetricDescriptor(
        "latency",
        type="custom.googleapis.com/churn/latency",
        metric_kind="GAUGE",
        value_type="DOUBLE",
        labels=[{"key": "model", "value_type": "STRING", "description": "model name"}],
    )
    gcp.monitoring.NotificationChannel("email", type="email", labels={"email_address": "ml@example.com"})


def test_a_monitoring_program_plans_with_labels_in_the_right_place():
    stack = run_function(_monitoring_program, project="churn")
    descriptor = stack.by_type("gcp:monitoring/metricDescriptor:MetricDescriptor")[0]
    channel = stack.by_type("gcp:monitoring/notificationChannel:NotificationChannel")[0]
    assert descriptor.inputs["labels"] == [{"key": "model", "valueType": "STRING", "description": "model name"}]
    assert channel.inputs["labels"] == {"email_address": "ml@example.com"}
    assert channel.inputs["userLabels"]["environment"] == "dev"
    tag_findings = [v for v in evaluate_stack(stack) if v.policy_id == "required-tags"]
    assert tag_findings == []


@pytest.mark.parametrize(
    ("type_token", "inputs"),
    [
        ("gcp:monitoring/metricDescriptor:MetricDescriptor", {"labels": [{"key": "a", "valueType": "STRING"}]}),
        ("aws:autoscaling/group:Group", {"tags": [{"key": "a", "value": "b", "propagateAtLaunch": True}]}),
        ("gcp:storage/bucket:Bucket", {"labels": "not-a-map"}),
    ],
)
def test_fake_state_survives_tag_like_properties_of_any_shape(type_token, inputs):
    _, state = fake_resource_state(type_token, "r", inputs)
    assert state.get("effectiveLabels", {}) == {} and state.get("tagsAll", {}) == {}


def test_a_fake_state_failure_names_the_resource(monkeypatch):
    def broken(*args, **kwargs):
        raise KeyError("location")

    monkeypatch.setattr("mlops_infra.engine.monitor.fake_resource_state", broken)
    mocks = DeterministicMocks("us-east-1", "p", "us-central1")
    args = pulumi.runtime.MockResourceArgs("gcp:storage/bucket:Bucket", "data", {"location": "EU"}, "", "", None)
    with pytest.raises(Exception, match=r"could not fake the state of gcp:storage/bucket:Bucket 'data'"):
        mocks.new_resource(args)


# --- the generated table (scripts/generate_tag_properties.py) ---------------------------------------

SAMPLE = [
    "aws:sagemaker/endpoint:Endpoint",
    "aws:s3/bucket:Bucket",
    "aws:s3/bucketPolicy:BucketPolicy",
    "aws:autoscaling/group:Group",
    "aws:kms/key:Key",
    "aws:eks/cluster:Cluster",
    "gcp:vertex/aiEndpoint:AiEndpoint",
    "gcp:compute/instance:Instance",
    "gcp:monitoring/alertPolicy:AlertPolicy",
    "gcp:container/cluster:Cluster",
    "gcp:kms/cryptoKey:CryptoKey",
    "gcp:colab/schedule:Schedule",
    "kubernetes:apps/v1:Deployment",
    "kubernetes:core/v1:ConfigMap",
    "kubernetes:helm.sh/v3:Release",
    "kubernetes:yaml/v2:ConfigGroup",
    "kubernetes:serving.kserve.io/v1beta1:InferenceService",
]


def test_the_generated_table_matches_the_installed_sdks_and_their_classes():
    """The table is used only for the SDK versions it names; for those, it answers as inspection does."""
    table = taggable._table()
    for module, version in table["sdks"].items():
        assert metadata.version(module.replace("_", "-")) == version, (
            f"{module} {version} in tag_properties.json; regenerate with scripts/generate_tag_properties.py"
        )
    assert all(taggable._table_matches(p) for p in taggable.SDK_MODULES)
    for type_token in SAMPLE:
        assert tag_property(type_token) == taggable.introspected_tag_property(type_token), type_token
    assert len(table["types"]) > 1000


def test_the_policy_pack_answers_from_the_table_without_importing_a_provider_sdk():
    """What made every pack process pay tens of seconds on its first Analyze: importing the SDKs."""
    code = (
        "import sys\n"
        "from mlops_infra.conventions.taggable import tag_property\n"
        "assert tag_property('gcp:compute/instance:Instance') == 'labels'\n"
        "assert tag_property('aws:sagemaker/endpoint:Endpoint') == 'tags'\n"
        "assert tag_property('kubernetes:serving.kserve.io/v1beta1:InferenceService') == 'metadata.labels'\n"
        "sdks = ('pulumi_aws', 'pulumi_gcp', 'pulumi_kubernetes')\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in sdks)\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
