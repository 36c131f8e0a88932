"""The Vertex resolver against the fake Vertex server: the version holding the approved alias."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from vertex_registry_fake import RegistryFake

from mlops_infra.gcp.dynamic.clients import model_service
from mlops_infra.registry.version import ApprovedVersion, Missing
from mlops_infra.registry.vertex import aliased_version


@pytest.fixture
def vertex() -> Iterator[RegistryFake]:
    fake = RegistryFake()
    try:
        yield fake
    finally:
        fake.stop()


def test_the_version_holding_the_alias_is_picked(vertex: RegistryFake) -> None:
    vertex.register("churn")
    approved = vertex.register("churn", "champion")
    vertex.register("churn", "challenger")  # newer, not approved
    model = vertex.model_name("churn")

    found = aliased_version(model_service(vertex.url), model, "champion")

    assert found == ApprovedVersion(f"{model}@{approved}", approved, "Vertex alias 'champion'")
    assert ("GET", "getModel", {}) in vertex.fake.requests
    assert not vertex.fake.errors


def test_moving_the_alias_changes_the_reference(vertex: RegistryFake) -> None:
    first = vertex.register("churn", "champion")
    second = vertex.register("churn")
    client = model_service(vertex.url)
    model = vertex.model_name("churn")
    before = aliased_version(client, model, "champion")

    vertex.move_alias("churn", second, "champion")

    after = aliased_version(client, model, "champion")
    assert isinstance(before, ApprovedVersion) and before.version == first
    assert isinstance(after, ApprovedVersion) and after.version == second
    assert before.reference != after.reference  # the deployment's revision: a rollout


def test_a_model_without_the_alias_has_no_approved_version(vertex: RegistryFake) -> None:
    vertex.register("churn", "challenger")

    assert aliased_version(model_service(vertex.url), vertex.model_name("churn"), "champion") is Missing.APPROVAL


def test_a_model_not_registered_yet_is_a_first_deployment(vertex: RegistryFake) -> None:
    assert aliased_version(model_service(vertex.url), vertex.model_name("absent"), "champion") is Missing.REGISTRY
