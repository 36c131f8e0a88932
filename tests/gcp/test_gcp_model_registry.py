"""ModelRegistry: CMEK models bucket, immutable serving-image repository, VertexModel versions and aliases."""

import pydantic
import pytest

from mlops_infra.engine import ProgramError
from mlops_infra.gcp import ModelRegistry, ModelRegistryArgs
from mlops_infra.testing import one, required_tags_present

DIGEST_IMAGE = "us-central1-docker.pkg.dev/acme-ml/images/serving@sha256:" + "e" * 64
TAG_IMAGE = "us-central1-docker.pkg.dev/acme-ml/images/serving:1.2.0"
KEY = "projects/acme-ml/locations/us-central1/keyRings/churn-dev-platform/cryptoKeys/churn-dev-platform"
MODEL = {"name": "churn", "artifact_uri": "gs://acme-models/churn/v1", "serving_image": DIGEST_IMAGE, "port": 8080}
VERTEX_AGENT = "serviceAccount:service-123456789012@gcp-sa-aiplatform.iam.gserviceaccount.com"


def registry(**overrides):
    return lambda: ModelRegistry("registry", {"models": [MODEL], **overrides})


def test_serving_images_live_in_an_immutable_cmek_repository(gcp_plan):
    stack = gcp_plan(registry(keep_image_versions=10))
    repo = one(stack, "gcp:artifactregistry/repository:Repository")
    assert repo.inputs["format"] == "DOCKER"
    assert repo.inputs["kmsKeyName"] == KEY
    assert repo.inputs["dockerConfig"] == {"immutableTags": True}
    assert repo.inputs["cleanupPolicies"] == [
        {"id": "keep-recent", "action": "KEEP", "mostRecentVersions": {"keepCount": 10}}
    ]
    reader = one(stack, "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember")
    assert reader.inputs == {
        "repository": "churn-dev-registry-images",
        "location": "us-central1",
        "role": "roles/artifactregistry.reader",
        "member": VERTEX_AGENT,
    }


def test_models_bucket_is_private_and_readable_by_vertex_only(gcp_plan):
    stack = gcp_plan(registry())
    bucket = one(stack, "gcp:storage/bucket:Bucket")
    assert bucket.inputs["name"] == "churn-dev-registry-models"
    assert bucket.inputs["encryption"] == {"defaultKmsKeyName": KEY}
    grant = one(stack, "gcp:storage/bucketIAMMember:BucketIAMMember")
    assert (grant.inputs["bucket"], grant.inputs["role"], grant.inputs["member"]) == (
        "churn-dev-registry-models",
        "roles/storage.objectViewer",
        VERTEX_AGENT,
    )


def test_model_version_is_uploaded_with_cmek_labels_and_aliases(gcp_plan):
    stack = gcp_plan(registry())
    model = one(stack, "pulumi-python:dynamic/vertex:VertexModel")
    inputs = model.inputs
    assert inputs["name"] == "projects/acme-ml/locations/us-central1/models/churn-dev-churn"
    assert inputs["model_id"] == "churn-dev-churn"
    assert inputs["artifact_uri"] == "gs://acme-models/churn/v1"
    assert inputs["serving_image_uri"] == DIGEST_IMAGE
    assert inputs["ports"] == [8080]
    assert inputs["kms_key_name"] == KEY
    assert inputs["version_aliases"] == ["challenger"]
    assert inputs["labels"] == {
        "project": "churn",
        "environment": "dev",
        "owner": "ml-platform",
        "cost-center": "cc-1234",
    }
    assert inputs["api_endpoint"] == "us-central1-aiplatform.googleapis.com"
    assert inputs["__provider"] == "[secret]"  # the serialized provider is never dumped into plans
    grants = {r.urn for r in stack.by_type("gcp:storage/bucketIAMMember:BucketIAMMember")}
    assert grants <= set(model.dependencies)


def test_prod_requires_digest_pinned_serving_images(gcp_plan):
    with pytest.raises(ProgramError, match=r"models\.0\.serving_image") as info:
        gcp_plan(
            lambda: ModelRegistry("registry", {"models": [{**MODEL, "serving_image": TAG_IMAGE}]}), environment="prod"
        )
    assert "digest" in str(info.value)
    assert info.value.registered == []
    stack = gcp_plan(lambda: ModelRegistry("registry", {"models": [{**MODEL, "serving_image": TAG_IMAGE}]}))
    assert one(stack, "pulumi-python:dynamic/vertex:VertexModel").inputs["serving_image_uri"] == TAG_IMAGE


def test_prod_protects_and_labels(gcp_plan):
    stack = gcp_plan(registry(models=[{**MODEL, "aliases": ["champion"]}]), environment="prod")
    assert required_tags_present(stack) == []
    assert one(stack, "gcp:artifactregistry/repository:Repository").protect
    assert one(stack, "gcp:storage/bucket:Bucket").protect


@pytest.mark.parametrize(
    ("model", "location"),
    [
        ({**MODEL, "aliases": ["default"]}, ("models", 0, "aliases")),
        ({**MODEL, "aliases": ["Champion"]}, ("models", 0, "aliases")),
        ({**MODEL, "serving_image": "serving:latest"}, ("models", 0, "serving_image")),
        ({**MODEL, "serving_image": "serving"}, ("models", 0, "serving_image")),
        ({**MODEL, "artifact_uri": "s3://models/churn"}, ("models", 0, "artifact_uri")),
        ({**MODEL, "port": 0}, ("models", 0, "port")),
    ],
)
def test_invalid_models_name_the_field(model, location):
    with pytest.raises(pydantic.ValidationError) as info:
        ModelRegistryArgs.model_validate({"region": "us-central1", "models": [model]})
    assert info.value.errors()[0]["loc"] == location


def test_plain_http_api_endpoint_only_for_a_local_emulator():
    with pytest.raises(pydantic.ValidationError) as info:
        ModelRegistryArgs.model_validate({"region": "us-central1", "api_endpoint": "http://vertex.example.com"})
    assert info.value.errors()[0]["loc"] == ("api_endpoint",)
    assert ModelRegistryArgs.model_validate({"region": "us-central1", "api_endpoint": "http://127.0.0.1:8080"})
