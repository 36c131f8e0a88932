"""The AWS resolver against a local moto server: the newest Approved package; pending and rejected are ignored."""

from __future__ import annotations

import time
from typing import Any

import pytest
from moto_server import aws_client, moto_endpoint  # noqa: F401 - moto_endpoint is a fixture

from mlops_infra.registry.sagemaker import latest_approved_package
from mlops_infra.registry.version import ApprovedVersion, Missing

pytestmark = pytest.mark.integration


@pytest.fixture
def sagemaker(moto_endpoint: str) -> Any:  # noqa: F811 - the fixture, imported above
    return aws_client("sagemaker", moto_endpoint)


def register(client: Any, group: str, status: str) -> str:
    arn: str = client.create_model_package(
        ModelPackageGroupName=group,
        ModelApprovalStatus=status,
        InferenceSpecification={
            "Containers": [{"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/churn:1"}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
    )["ModelPackageArn"]
    time.sleep(0.01)  # distinct creation times
    return arn


def test_the_newest_approved_version_is_picked(sagemaker: Any) -> None:
    sagemaker.create_model_package_group(ModelPackageGroupName="churn-newest")
    register(sagemaker, "churn-newest", "Approved")
    second = register(sagemaker, "churn-newest", "Approved")
    register(sagemaker, "churn-newest", "PendingManualApproval")
    register(sagemaker, "churn-newest", "Rejected")

    found = latest_approved_package(sagemaker, "churn-newest")

    assert isinstance(found, ApprovedVersion)
    assert found.reference == second
    assert found.version == "2"
    assert "churn-newest" in found.source


def test_revoking_an_approval_rolls_back_to_the_previous_approved_version(sagemaker: Any) -> None:
    sagemaker.create_model_package_group(ModelPackageGroupName="churn-revoked")
    first = register(sagemaker, "churn-revoked", "Approved")
    second = register(sagemaker, "churn-revoked", "Approved")
    assert latest_approved_package(sagemaker, "churn-revoked") == ApprovedVersion(
        second, "2", "SageMaker model package group churn-revoked"
    )

    sagemaker.update_model_package(ModelPackageArn=second, ModelApprovalStatus="Rejected")

    found = latest_approved_package(sagemaker, "churn-revoked")
    assert isinstance(found, ApprovedVersion)
    assert found.reference == first


def test_pending_and_rejected_versions_are_not_approved(sagemaker: Any) -> None:
    sagemaker.create_model_package_group(ModelPackageGroupName="churn-pending")
    register(sagemaker, "churn-pending", "PendingManualApproval")
    register(sagemaker, "churn-pending", "Rejected")

    assert latest_approved_package(sagemaker, "churn-pending") is Missing.APPROVAL


def test_an_empty_group_has_no_approved_version(sagemaker: Any) -> None:
    sagemaker.create_model_package_group(ModelPackageGroupName="churn-empty")

    assert latest_approved_package(sagemaker, "churn-empty") is Missing.APPROVAL


def test_a_group_not_created_yet_is_a_first_deployment(sagemaker: Any) -> None:
    assert latest_approved_package(sagemaker, "churn-not-created") is Missing.REGISTRY
