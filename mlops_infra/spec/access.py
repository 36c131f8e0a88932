"""People: the four personas mapped to identity-provider groups."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field

from mlops_infra.spec.base import Spec

APPROVER_ONLY_ENVIRONMENT = "prod"
"""The environment where only ``model_approvers`` may approve a model version (elsewhere ML engineers may too)."""

GROUP_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9@._:/-]{0,255}$")


def check_group(value: str) -> str:
    """An identity-provider group name (SSO group, Google group e-mail, OIDC group claim)."""
    if not GROUP_PATTERN.fullmatch(value):
        raise ValueError(f"{value!r} is not a group name (letters, digits and @._:/-, no spaces)")
    return value


Group = Annotated[str, AfterValidator(check_group)]


class AccessSpec(Spec):
    """Identity-provider groups per persona; each cloud grants each persona least privilege."""

    data_scientists: list[Group] = Field(default_factory=list, description="Read features, run pipelines in dev.")
    ml_engineers: list[Group] = Field(
        default_factory=list, description="Plus run pipelines everywhere; approve models outside prod."
    )
    devops: list[Group] = Field(default_factory=list, description="Operate endpoints and alarms; no data read.")
    analysts: list[Group] = Field(default_factory=list, description="Read dashboards and cost.")
    model_approvers: list[Group] = Field(
        default_factory=list, description="Who may approve a model; in prod, only they."
    )
