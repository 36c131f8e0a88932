"""``registry.approval.serve: latest_approved`` through each realization, under the offline engine.

Offline, the stack config ``offlineApprovedVersions`` is what the registry answers; an endpoint it
does not name has no approved version (dev: warned and not deployed; protected: the run stops).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml

from mlops_infra.engine import ProgramError
from mlops_infra.engine.captured import CapturedStack
from mlops_infra.platform import MlPlatform
from mlops_infra.spec.load import deep_merge
from mlops_infra.testing import one, plan

# The encrypted StorageClass protected environments need (k8s.storage).
VOLUME_KEY = "arn:aws:kms:us-east-1:123456789012:key/0f2d9c1e-5b7a-4e3c-9d8f-6a1b2c3d4e5f"

SPEC_FILE = Path(__file__).resolve().parents[2] / "stacks" / "platform" / "platform.yaml"
LATEST = {"registry": {"approval": {"mode": "manual", "serve": "latest_approved"}}}
EMAILS = {"alerts": {"emails": ["ml-platform@example.com"]}}
GCP = {"gcp": {"billing_account": "01A2B3-C4D5E6-F7A8B9", "group_domain": "example.com"}}
GCP_CONFIG = {"gcp:project": "acme-churn", "gcp:region": "europe-west4"}
K8S = {"k8s": {"team": "churn-ml", "model_store_uri": "s3://acme-churn/models",
               "oidc_issuer_url": "https://login.acme.example/realms/ml",
               "storage": {"provisioner": "aws-ebs", "kms_key": VOLUME_KEY}}}  # fmt: skip
K8S_SECRETS = {
    "redisPassword": "a-long-redis-password",
    "postgresPassword": "a-long-postgres-password",
    "oidcClientSecret": "client-secret",
    "cookieSecret": "0123456789abcdef0123456789abcdef",
}
SM_MODEL = "aws:sagemaker/model:Model"
SM_ENDPOINT = "aws:sagemaker/endpoint:Endpoint"
VERTEX_DEPLOYMENT = "pulumi-python:dynamic/vertex:VertexModelDeployment"
ISVC = "kubernetes:serving.kserve.io/v1beta1:InferenceService"


def realize(
    cloud: str,
    environment: str,
    versions: dict[str, Any] | None,
    config: dict[str, Any] | None = None,
    **overrides: Any,
) -> CapturedStack:
    spec = yaml.safe_load(SPEC_FILE.read_text(encoding="utf-8"))
    extra = {"aws": {}, "gcp": GCP, "k8s": K8S}[cloud]
    spec = deep_merge(spec, deep_merge(deep_merge({"clouds": [cloud]}, extra), deep_merge(EMAILS, overrides)))
    config = {**{"aws": {}, "gcp": GCP_CONFIG, "k8s": K8S_SECRETS}[cloud], **(config or {})}
    if versions is not None:
        config = {**config, "offlineApprovedVersions": versions}

    def program() -> None:
        pulumi.export("platform", MlPlatform("churn", spec).outputs)

    return plan(program, environment=environment, config=config)


# --- AWS --------------------------------------------------------------------------------------------


def test_aws_serves_the_configured_newest_approved_package_in_prod() -> None:
    stack = realize("aws", "prod", {"scoring": 9}, **LATEST)

    model = one(stack, SM_MODEL).inputs["primaryContainer"]["modelPackageName"]
    assert model == "arn:aws:sagemaker:us-east-1:123456789012:model-package/churn-prod-churn/9"


def test_aws_accepts_a_version_arn() -> None:
    arn = "arn:aws:sagemaker:us-east-1:123456789012:model-package/shared-churn/3"
    stack = realize("aws", "prod", {"scoring": arn}, **LATEST)

    assert one(stack, SM_MODEL).inputs["primaryContainer"]["modelPackageName"] == arn


def test_aws_dev_without_an_approved_version_warns_and_deploys_no_endpoint() -> None:
    stack = realize("aws", "dev", None, **LATEST)

    assert stack.by_type(SM_ENDPOINT) == []
    assert stack.by_type("aws:sagemaker/modelPackageGroup:ModelPackageGroup")  # the registry is still there
    assert any("no approved version" in d and "not deployed" in d for d in stack.diagnostics)
    assert stack.outputs["platform"]["aws"]["endpointNames"] == {}


def test_aws_prod_without_an_approved_version_stops_with_what_to_do() -> None:
    with pytest.raises(ProgramError) as error:
        realize("aws", "prod", {}, **LATEST)

    message = str(error.value)
    assert "no approved version" in message
    assert "update-model-package" in message
    assert "offlineApprovedVersions.scoring" in message


def test_aws_refuses_a_pin_beside_latest_approved() -> None:
    with pytest.raises(ProgramError, match="remove the pinned version"):
        pinned = deep_merge(LATEST, {"aws": {"approved_model_packages": {"scoring": 7}}})
        realize("aws", "prod", {"scoring": 9}, **pinned)


def test_aws_pinned_stays_the_default() -> None:
    stack = realize("aws", "dev", {"scoring": 9})

    assert "modelPackageName" not in one(stack, SM_MODEL).inputs.get("primaryContainer", {})


# --- GCP --------------------------------------------------------------------------------------------


def test_gcp_revision_is_the_version_holding_the_alias() -> None:
    stack = realize("gcp", "prod", {"scoring": "5"}, **LATEST)

    (deployment,) = one(stack, VERTEX_DEPLOYMENT).inputs["deployments"]
    assert deployment["alias"] == "champion"
    assert deployment["revision"].startswith("projects/acme-churn/locations/europe-west4/models/")
    assert deployment["revision"].endswith("@5")


def test_gcp_moving_the_alias_changes_the_deployment_input() -> None:
    before = one(realize("gcp", "dev", {"scoring": "5"}, **LATEST), VERTEX_DEPLOYMENT).inputs["deployments"][0]
    after = one(realize("gcp", "dev", {"scoring": "6"}, **LATEST), VERTEX_DEPLOYMENT).inputs["deployments"][0]

    assert before["revision"] != after["revision"]  # the dynamic resource's diff sees it: a canary rollout


def test_gcp_dev_without_an_approved_version_deploys_nothing() -> None:
    stack = realize("gcp", "dev", None, **LATEST)

    assert all(not r.inputs.get("deployments") for r in stack.by_type(VERTEX_DEPLOYMENT))
    assert any("no approved version" in d for d in stack.diagnostics)


def test_gcp_prod_without_an_approved_version_stops() -> None:
    with pytest.raises(ProgramError, match="mergeVersionAliases"):
        realize("gcp", "prod", {}, **LATEST)


# --- Kubernetes -------------------------------------------------------------------------------------


def test_k8s_storage_uri_is_the_aliased_mlflow_version() -> None:
    uri = "s3://acme-mlflow/1/abc123/artifacts/model"
    stack = realize("k8s", "prod", {"scoring": uri}, **LATEST)

    assert one(stack, ISVC).inputs["spec"]["predictor"]["model"]["storageUri"] == uri


def test_k8s_dev_without_an_approved_version_deploys_no_inference_service() -> None:
    stack = realize("k8s", "dev", None, **LATEST)

    assert stack.by_type(ISVC) == []
    assert any("set_registered_model_alias" in d for d in stack.diagnostics)


def test_k8s_prod_without_an_approved_version_stops() -> None:
    with pytest.raises(ProgramError, match="no approved version"):
        realize("k8s", "prod", {}, **LATEST)
