"""The newest Approved model package of a SageMaker model package group (boto3)."""

from __future__ import annotations

from typing import Any

from mlops_infra.registry.version import ApprovedVersion, Missing, Resolution

APPROVED = "Approved"
_UNUSABLE = frozenset({"Failed", "Deleting"})
_NOT_FOUND = frozenset({"ResourceNotFound", "ResourceNotFoundException"})


def latest_approved_package(client: Any, group_name: str) -> Resolution:
    """The newest (by creation time) Approved, usable package version of ``group_name``.

    ``client`` is a boto3 SageMaker client. Pending and rejected versions are never returned; a
    version whose approval was revoked (set back to Rejected) is skipped, so revoking is a rollback.
    """
    response = client.list_model_packages(
        ModelPackageGroupName=group_name,
        ModelApprovalStatus=APPROVED,
        SortBy="CreationTime",
        SortOrder="Descending",
    )
    summaries = [
        s
        for s in response.get("ModelPackageSummaryList", [])
        if s.get("ModelApprovalStatus") == APPROVED and s.get("ModelPackageStatus") not in _UNUSABLE
    ]
    if not summaries:
        return Missing.REGISTRY if not _group_exists(client, group_name) else Missing.APPROVAL
    # The first page holds the newest: order within it by creation time, then version number.
    newest = max(summaries, key=lambda s: (s["CreationTime"], int(s.get("ModelPackageVersion") or 0)))
    return ApprovedVersion(
        reference=str(newest["ModelPackageArn"]),
        version=str(newest.get("ModelPackageVersion", "")),
        source=f"SageMaker model package group {group_name}",
    )


def _group_exists(client: Any, group_name: str) -> bool:
    try:
        client.describe_model_package_group(ModelPackageGroupName=group_name)
    except client.exceptions.ClientError as exc:
        error = exc.response.get("Error", {})
        if error.get("Code") in _NOT_FOUND or "does not exist" in str(error.get("Message", "")):
            return False
        raise
    return True
