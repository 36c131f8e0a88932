"""Platform settings: validation names the field; the transform tags and protects."""

import pulumi_aws as aws
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s
import pydantic
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlops_infra.config.platform import REQUIRED_TAG_KEYS, PlatformSettings
from mlops_infra.conventions import init_platform, tag_property
from mlops_infra.engine import ProgramError, run_function
from mlops_infra.testing import plan, required_tags_present

VALID = {"project": "churn", "environment": "prod", "owner": "ml-platform", "costCenter": "cc-1"}


def raw_resources() -> None:
    aws.s3.Bucket("raw-bucket", bucket="raw-bucket")
    aws.s3.BucketPublicAccessBlock("raw-pab", bucket="raw-bucket", block_public_acls=True)
    aws.sqs.Queue("raw-queue", tags={"team": "fraud"})
    gcp.storage.Bucket("raw-gcs", location="EU", labels={"team": "fraud"})
    k8s.core.v1.Namespace("raw-ns", metadata={"name": "churn"})
    k8s.core.v1.PersistentVolumeClaim(
        "raw-pvc",
        metadata={"name": "data", "namespace": "churn"},
        spec={"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
    )


def program() -> None:
    init_platform()
    raw_resources()


def test_required_tags_reach_raw_resources_on_every_cloud():
    stack = plan(program, environment="staging")
    assert required_tags_present(stack) == []
    queue = stack.by_type("aws:sqs/queue:Queue")[0]
    assert queue.inputs["tags"] == {
        "project": "churn",
        "environment": "staging",
        "owner": "ml-platform",
        "cost-center": "cc-1234",
        "team": "fraud",
    }
    assert stack.by_type("gcp:storage/bucket:Bucket")[0].inputs["labels"]["cost-center"] == "cc-1234"
    assert stack.by_type("kubernetes:core/v1:Namespace")[0].inputs["metadata"]["labels"]["owner"] == "ml-platform"
    # A type without tags is left exactly as written.
    assert "tags" not in stack.by_type("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")[0].inputs


@pytest.mark.parametrize(("environment", "protected"), [("dev", False), ("staging", True), ("prod", True)])
def test_stateful_resources_are_protected_only_in_protected_environments(environment, protected):
    stack = plan(program, environment=environment)
    by_name = {r.name: r for r in stack.resources}
    for stateful in ("raw-bucket", "raw-gcs", "raw-pvc"):
        assert by_name[stateful].protect is protected
        assert by_name[stateful].retain_on_delete is protected
    for stateless in ("raw-queue", "raw-pab", "raw-ns"):
        assert by_name[stateless].protect is False


def test_protection_exemption_must_be_named_explicitly():
    stack = plan(program, environment="prod", config={"protectionExemptions": ["raw-bucket"]})
    by_name = {r.name: r for r in stack.resources}
    assert by_name["raw-bucket"].protect is False
    assert by_name["raw-gcs"].protect is True


def test_protected_environments_are_configurable():
    stack = plan(program, environment="staging", config={"protectedEnvironments": ["prod"]})
    assert all(not r.protect for r in stack.resources)


def test_gcp_labels_are_label_safe():
    stack = plan(program, environment="dev", config={"owner": "ML Platform Team", "costCenter": "CC/1234"})
    labels = stack.by_type("gcp:storage/bucket:Bucket")[0].inputs["labels"]
    assert labels["owner"] == "ml_platform_team" and labels["cost-center"] == "cc_1234"


def test_invalid_environment_stops_before_any_resource():
    with pytest.raises(ProgramError, match="environment: Input should be 'dev', 'staging' or 'prod'"):
        plan(program, environment="moon")


def test_missing_owner_names_the_field():
    with pytest.raises(ProgramError, match="owner: Field required"):
        run_function(program, project="churn", config={"environment": "dev", "costCenter": "cc-1"})


def test_extra_tags_may_not_redefine_required_keys():
    with pytest.raises(pydantic.ValidationError) as caught:
        PlatformSettings.model_validate({**VALID, "tags": {"owner": "someone-else"}})
    assert caught.value.errors()[0]["loc"] == ("tags",)


INVALID_VALUES = {
    "environment": st.one_of(st.text(max_size=12).filter(lambda v: v not in {"dev", "staging", "prod"}), st.integers()),
    "owner": st.one_of(st.just(""), st.text(min_size=129, max_size=140), st.integers(), st.none()),
    "costCenter": st.one_of(st.just(""), st.integers(), st.none()),
    "project": st.one_of(st.just(""), st.just("1starts-with-digit"), st.just("has space"), st.none()),
    "protectedEnvironments": st.lists(st.sampled_from(["qa", "mars", "production"]), min_size=1),
}


@settings(max_examples=60, deadline=None)
@given(data=st.data(), field=st.sampled_from(sorted(INVALID_VALUES)))
def test_invalid_settings_always_name_the_field(data, field):
    value = data.draw(INVALID_VALUES[field])
    with pytest.raises(pydantic.ValidationError) as caught:
        PlatformSettings.model_validate({**VALID, field: value})
    assert {str(error["loc"][0]) for error in caught.value.errors()} == {field}


def test_taggability_comes_from_the_provider_sdks():
    assert tag_property("aws:sagemaker/endpoint:Endpoint") == "tags"
    assert tag_property("aws:s3/bucketPolicy:BucketPolicy") is None
    assert tag_property("gcp:vertex/aiEndpoint:AiEndpoint") == "labels"
    assert tag_property("kubernetes:apps/v1:Deployment") == "metadata.labels"
    assert tag_property("kubernetes:serving.kserve.io/v1beta1:InferenceService") == "metadata.labels"
    assert set(REQUIRED_TAG_KEYS) == {"project", "environment", "owner", "cost-center"}
