"""People: the four personas mapped to identity-provider groups."""

from __future__ import annotations

import re

from pydantic import Field, model_validator

from mlops_infra.spec.base import Spec

GROUP_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9@._:/-]{0,255}$"


class AccessSpec(Spec):
    """Identity-provider groups per persona; each cloud grants each persona least privilege."""

    data_scientists: list[str] = Field(default_factory=list, description="Read features, run pipelines in dev.")
    ml_engineers: list[str] = Field(default_factory=list, description="Plus operate pipelines and the registry.")
    devops: list[str] = Field(default_factory=list, description="Operate endpoints and alarms; no data read.")
    analysts: list[str] = Field(default_factory=list, description="Read dashboards and cost.")
    model_approvers: list[str] = Field(default_factory=list, description="Who may approve a model for prod.")

    @model_validator(mode="after")
    def _groups(self) -> AccessSpec:
        for field_name in ("data_scientists", "ml_engineers", "devops", "analysts", "model_approvers"):
            for group in getattr(self, field_name):
                if not re.fullmatch(GROUP_PATTERN, group):
                    raise ValueError(f"{field_name}: {group!r} is not a group name")
        return self
