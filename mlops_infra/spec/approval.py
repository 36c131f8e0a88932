"""Who lets a model version reach production."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from mlops_infra.spec.base import Spec


class ApprovalMode(StrEnum):
    """How a newly registered version becomes deployable."""

    MANUAL = "manual"
    """A person approves each version (SageMaker PendingManualApproval, Vertex alias promotion, MLflow stage)."""
    AUTOMATIC = "automatic"
    """Versions that pass the pipeline's metric gate are approved at registration (dev only by default)."""


class Approval(Spec):
    """The approval gate between the registry and the endpoints. None in a spec: the environment decides."""

    mode: ApprovalMode = ApprovalMode.MANUAL
    approved_label: str = Field(
        "champion",
        pattern=r"^[a-z][a-z0-9-]{0,62}$",
        description="Label that marks the approved version (Vertex alias, MLflow alias; SageMaker uses its status).",
    )
