"""The model registry and its approval gate."""

from __future__ import annotations

from pydantic import Field

from mlops_infra.spec.approval import Approval
from mlops_infra.spec.base import Spec
from mlops_infra.spec.types import Name


class RegistrySpec(Spec):
    """Registered model versions; endpoints in protected environments serve approved versions only."""

    model_name: Name = Field(description="The registered model (SageMaker package group, Vertex model, MLflow model).")
    description: str = Field("", max_length=1000)
    approval: Approval | None = Field(None, description="Approval gate; None: the environment's default.")
