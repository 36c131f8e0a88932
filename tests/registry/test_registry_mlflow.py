"""The MLflow resolver against a tiny local fake: the aliased version's storage URI."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fake_mlflow import FakeMlflowServer

from mlops_infra.registry.mlflow import MlflowError, aliased_storage_uri
from mlops_infra.registry.version import ApprovedVersion, Missing


@pytest.fixture
def mlflow() -> Iterator[FakeMlflowServer]:
    server = FakeMlflowServer()
    try:
        yield server
    finally:
        server.stop()


def test_the_aliased_version_storage_uri_is_served(mlflow: FakeMlflowServer) -> None:
    mlflow.registry.models["churn"] = {"1": "s3://models/churn/1", "2": "s3://models/churn/2", "3": "s3://x/3"}
    mlflow.registry.aliases["churn"] = {"champion": "2", "challenger": "3"}

    found = aliased_storage_uri(mlflow.url, "churn", "champion", token="t0ken")

    assert found == ApprovedVersion("s3://models/churn/2", "2", "MLflow alias 'champion'")
    path, query, authorization = mlflow.registry.requests[0]
    assert (path, query) == ("/api/2.0/mlflow/registered-models/alias", {"name": "churn", "alias": "champion"})
    assert authorization == "Bearer t0ken"


def test_a_runs_source_is_resolved_to_its_download_uri(mlflow: FakeMlflowServer) -> None:
    mlflow.registry.models["churn"] = {"4": "runs:/abc123/model"}
    mlflow.registry.aliases["churn"] = {"champion": "4"}
    mlflow.registry.downloads[("churn", "4")] = "gs://acme-mlflow/1/abc123/artifacts/model"

    found = aliased_storage_uri(mlflow.url, "churn", "champion")

    assert isinstance(found, ApprovedVersion)
    assert found.reference == "gs://acme-mlflow/1/abc123/artifacts/model"
    assert mlflow.registry.requests[-1][0] == "/api/2.0/mlflow/model-versions/get-download-uri"


def test_a_proxied_artifact_store_is_refused(mlflow: FakeMlflowServer) -> None:
    mlflow.registry.models["churn"] = {"1": "mlflow-artifacts:/1/abc/artifacts/model"}
    mlflow.registry.aliases["churn"] = {"champion": "1"}

    with pytest.raises(MlflowError, match="KServe cannot read"):
        aliased_storage_uri(mlflow.url, "churn", "champion")


def test_no_alias_is_no_approved_version_and_no_model_a_first_deployment(mlflow: FakeMlflowServer) -> None:
    mlflow.registry.models["churn"] = {"1": "s3://models/churn/1"}

    assert aliased_storage_uri(mlflow.url, "churn", "champion") is Missing.APPROVAL
    assert aliased_storage_uri(mlflow.url, "fraud", "champion") is Missing.REGISTRY


def test_a_token_never_travels_over_plain_http_off_loopback() -> None:
    with pytest.raises(ValueError, match="must be https"):
        aliased_storage_uri("http://mlflow.example.com", "churn", "champion", token="t")
