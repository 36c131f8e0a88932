"""VertexModel provider against the fake Vertex REST server: upload, versions, aliases, patch, read, delete."""

import pytest

from mlops_infra.gcp.dynamic.errors import VertexError
from mlops_infra.gcp.dynamic.vertex_model import VertexModelProvider

pytestmark = [pytest.mark.integration, pytest.mark.filterwarnings("ignore::FutureWarning")]

KEY = "projects/acme-ml/locations/us-central1/keyRings/platform/cryptoKeys/platform"
NAME = "projects/acme-ml/locations/us-central1/models/churn-dev-churn"


@pytest.fixture
def props(fake_vertex):
    return {
        "project": "acme-ml",
        "region": "us-central1",
        "api_endpoint": fake_vertex.url,
        "model_id": "churn-dev-churn",
        "name": NAME,
        "display_name": "churn",
        "description": "churn classifier",
        "artifact_uri": "gs://acme-models/churn/v1",
        "serving_image_uri": "us-central1-docker.pkg.dev/acme-ml/images/serving:1.0.0",
        "predict_route": "/predict",
        "health_route": "/health",
        "ports": [8080.0],  # the engine sends numbers as floats
        "kms_key_name": KEY,
        "labels": {"project": "churn", "environment": "dev"},
        "version_aliases": ["challenger"],
        "version_description": "first",
        "parent_model": None,
        "timeout_seconds": 30.0,
        "__provider": "serialized",
    }


def aliases(fake, version):
    return sorted(fake.models[NAME]["versions"][version]["versionAliases"])


def test_create_uploads_a_cmek_version_and_sets_aliases(fake_vertex, props):
    result = VertexModelProvider().create(props)
    assert result.id == NAME
    assert (result.outs["version_id"], result.outs["version_name"]) == ("1", f"{NAME}@1")
    assert "__provider" not in result.outs
    fake = fake_vertex.fake
    assert fake.errors == []
    assert fake.routes() == ["getModel", "uploadModel", "getOperation", "getModel", "mergeVersionAliases"]
    upload = next(body for _, route, body in fake.requests if route == "uploadModel")
    assert upload["modelId"] == "churn-dev-churn" and "parentModel" not in upload
    model = upload["model"]
    assert model["encryptionSpec"] == {"kmsKeyName": KEY}
    assert model["labels"] == {"project": "churn", "environment": "dev"}
    assert model["artifactUri"] == "gs://acme-models/churn/v1"
    assert model["containerSpec"] == {
        "imageUri": "us-central1-docker.pkg.dev/acme-ml/images/serving:1.0.0",
        "predictRoute": "/predict",
        "healthRoute": "/health",
        "ports": [{"containerPort": 8080}],
    }
    assert aliases(fake, "1") == ["challenger", "default"]


def test_new_artifact_uploads_a_new_version_and_moves_the_aliases(fake_vertex, props):
    provider = VertexModelProvider()
    created = provider.create(props)
    news = {**props, "artifact_uri": "gs://acme-models/churn/v2", "version_aliases": ["champion"]}
    updated = provider.update(created.id, created.outs, news)
    fake = fake_vertex.fake
    assert updated.outs["version_id"] == "2"
    assert aliases(fake, "1") == ["default"]
    assert aliases(fake, "2") == ["champion"]
    second_upload = [body for _, route, body in fake.requests if route == "uploadModel"][1]
    assert second_upload["parentModel"] == NAME and "modelId" not in second_upload
    assert fake.errors == []


def test_alias_only_change_merges_without_uploading(fake_vertex, props):
    provider = VertexModelProvider()
    created = provider.create(props)
    fake = fake_vertex.fake
    uploads = fake.routes().count("uploadModel")
    updated = provider.update(created.id, created.outs, {**props, "version_aliases": ["champion"]})
    assert fake.routes().count("uploadModel") == uploads
    assert updated.outs["version_id"] == "1"
    assert aliases(fake, "1") == ["champion", "default"]
    merge = [body for _, route, body in fake.requests if route == "mergeVersionAliases"][-1]
    assert merge == {"versionAliases": ["champion", "-challenger"]}


def test_an_alias_held_by_another_version_is_moved(fake_vertex, props):
    provider = VertexModelProvider()
    created = provider.create({**props, "version_aliases": ["champion"]})
    second = provider.update(
        created.id, created.outs, {**props, "artifact_uri": "gs://acme-models/churn/v2", "version_aliases": []}
    )
    assert second.outs["version_id"] == "2"
    # Someone promotes version 1 by hand; the stack then declares champion on the current version (2).
    fake = fake_vertex.fake
    third = provider.update(created.id, second.outs, {**second.outs, "version_aliases": ["champion"]})
    assert third.outs["version_id"] == "2"
    assert aliases(fake, "2") == ["champion"]
    assert "champion" not in aliases(fake, "1")
    assert fake.errors == []


def test_label_change_patches_the_version(fake_vertex, props):
    provider = VertexModelProvider()
    created = provider.create(props)
    provider.update(created.id, created.outs, {**props, "labels": {"project": "churn", "team": "ml"}})
    fake = fake_vertex.fake
    patch = next(body for _, route, body in fake.requests if route == "updateModel")
    assert patch["labels"] == {"project": "churn", "team": "ml"}
    assert fake.models[NAME]["versions"]["1"]["labels"] == {"project": "churn", "team": "ml"}
    assert fake.routes().count("uploadModel") == 1


def test_read_reports_live_state_and_missing_models(fake_vertex, props):
    provider = VertexModelProvider()
    created = provider.create(props)
    fake_vertex.fake.models[NAME]["versions"]["1"]["versionAliases"].append("hotfix")
    live = provider.read(created.id, created.outs)
    assert live.id == NAME
    assert live.outs["version_aliases"] == ["challenger", "hotfix"]
    assert live.outs["kms_key_name"] == KEY
    provider.delete(created.id, created.outs)
    assert provider.read(created.id, created.outs).id is None


def test_create_is_idempotent_when_the_model_exists(fake_vertex, props):
    provider = VertexModelProvider()
    provider.create(props)
    again = provider.create({**props, "version_aliases": []})
    assert again.id == NAME and again.outs["version_id"] == "2"


def test_delete_refuses_clearly_while_deployed(fake_vertex, props):
    provider = VertexModelProvider()
    created = provider.create(props)
    fake = fake_vertex.fake
    fake.add_endpoint("projects/acme-ml/locations/us-central1/endpoints/1")
    fake.endpoints["projects/acme-ml/locations/us-central1/endpoints/1"]["deployedModels"].append(
        {"id": "9", "model": f"{NAME}@1"}
    )
    with pytest.raises(VertexError, match=f"deleting model {NAME} failed: .*is deployed to"):
        provider.delete(created.id, created.outs)
    fake.endpoints.clear()
    provider.delete(created.id, created.outs)
    assert NAME not in fake.models


def test_version_added_to_an_external_parent_deletes_only_that_version(fake_vertex, props):
    provider = VertexModelProvider()
    provider.create(props)
    child = provider.create({**props, "parent_model": NAME, "version_aliases": ["challenger"]})
    assert child.id == f"{NAME}@2" and child.outs["owns_model"] is False
    provider.delete(child.id, child.outs)
    assert set(fake_vertex.fake.models[NAME]["versions"]) == {"1"}


def test_the_fake_rejects_a_wrong_body(fake_vertex, props):
    with pytest.raises(VertexError, match="kmsKeyName must be a Cloud KMS crypto key name"):
        VertexModelProvider().create({**props, "kms_key_name": "my-key"})
    assert fake_vertex.fake.errors


def test_diff_distinguishes_new_versions_from_replacement(props):
    provider = VertexModelProvider()
    olds = {**props, "version_id": "1"}
    assert provider.diff(NAME, olds, {**props, "artifact_uri": "gs://x/v2"}).replaces == []
    renamed = provider.diff(NAME, olds, {**props, "model_id": "churn-v2"})
    assert renamed.replaces == ["model_id"] and renamed.delete_before_replace is False
    # A new region is a new model name: created first, and the old model's delete keeps registered versions.
    moved = provider.diff(NAME, olds, {**props, "region": "europe-west4"})
    assert moved.replaces == ["region"] and moved.delete_before_replace is False
    assert provider.diff(NAME, olds, dict(olds)).changes is False


def register(fake, *version_ids):
    """The training pipeline registers versions under the model (outside Pulumi)."""
    for v in version_ids:
        fake.models[NAME]["versions"][v] = {"name": NAME, "versionId": v, "versionAliases": [], "displayName": "x"}


def test_api_endpoint_spelling_is_not_a_change_and_another_host_is_an_update(props):
    provider = VertexModelProvider()
    olds = {**props, "api_endpoint": "us-central1-aiplatform.googleapis.com", "version_id": "1"}
    for same in ("us-central1-aiplatform.googleapis.com/", "https://us-central1-aiplatform.googleapis.com/"):
        assert provider.diff(NAME, olds, {**olds, "api_endpoint": same}).changes is False
    mtls = provider.diff(NAME, olds, {**olds, "api_endpoint": "us-central1-aiplatform.mtls.googleapis.com"})
    assert mtls.changes is True and mtls.replaces == [] and mtls.delete_before_replace is False


def test_a_new_host_updates_without_touching_versions(fake_vertex, props):
    provider = VertexModelProvider()
    created = provider.create(props)
    register(fake_vertex.fake, "2", "3")
    calls = len(fake_vertex.fake.requests)
    updated = provider.update(created.id, created.outs, {**props, "api_endpoint": fake_vertex.url + "/"})
    assert updated.outs["version_id"] == "1"
    assert set(fake_vertex.fake.models[NAME]["versions"]) == {"1", "2", "3"}
    assert "deleteModel" not in fake_vertex.fake.routes()[calls:]


def test_parent_model_changes_are_refused_with_the_way_to_migrate(fake_vertex, props):
    provider = VertexModelProvider()
    created = provider.create(props)
    other = "projects/acme-ml/locations/us-central1/models/other"
    diff = provider.diff(created.id, created.outs, {**props, "parent_model": other})
    assert diff.replaces == [] and diff.changes is True
    failures = provider.check(props, {**props, "parent_model": other}).failures
    assert [f.property for f in failures] == ["parent_model"]
    assert "To migrate, declare a new model entry" in failures[0].reason
    assert provider.check(props, {**props, "parent_model": None}).failures == []
    with pytest.raises(VertexError, match="parent_model cannot change"):
        provider.update(created.id, created.outs, {**props, "parent_model": other})
    assert set(fake_vertex.fake.models[NAME]["versions"]) == {"1"}


def test_defect_2_a_region_move_keeps_the_versions_the_pipeline_registered(fake_vertex, props):
    provider = VertexModelProvider()
    created = provider.create(props)
    register(fake_vertex.fake, "2", "3")
    moved = {**props, "region": "europe-west4", "name": NAME.replace("us-central1", "europe-west4")}
    diff = provider.diff(created.id, created.outs, moved)
    assert diff.replaces == ["region"] and diff.delete_before_replace is False
    replacement = provider.create(moved)  # Pulumi creates the replacement first...
    provider.delete(created.id, created.outs)  # ...then deletes the old resource
    fake = fake_vertex.fake
    assert set(fake.models[NAME]["versions"]) == {"1", "2", "3"}  # version 1 is the default: kept too
    assert replacement.outs["name"] in fake.models
    assert "deleteModel" not in fake.routes()


def test_delete_removes_only_its_own_versions_when_the_pipeline_registered_some(fake_vertex, props):
    provider = VertexModelProvider()
    created = provider.create(props)
    register(fake_vertex.fake, "2")
    updated = provider.update(created.id, created.outs, {**props, "artifact_uri": "gs://acme-models/churn/v3"})
    assert updated.outs["managed_version_ids"] == ["1", "3"]
    provider.delete(created.id, updated.outs)
    assert set(fake_vertex.fake.models[NAME]["versions"]) == {"1", "2"}  # 3 deleted, 1 is the default
    register(fake_vertex.fake)  # nothing foreign left once the pipeline's version is gone
    del fake_vertex.fake.models[NAME]["versions"]["2"]
    provider.delete(created.id, updated.outs)
    assert NAME not in fake_vertex.fake.models


def test_check_reports_missing_fields(props):
    result = VertexModelProvider().check({}, {**props, "kms_key_name": "", "version_aliases": ["default"]})
    assert {f.property for f in result.failures} == {"kms_key_name", "version_aliases"}
