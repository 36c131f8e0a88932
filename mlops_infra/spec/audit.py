"""Audit: who did what to the platform's data, models and endpoints, recorded by each cloud."""

from __future__ import annotations

from pydantic import Field

from mlops_infra.spec.base import Spec


class AuditSpec(Spec):
    """Cloud audit logs of the platform's data and ML services (policy audit-logging)."""

    enabled: bool | None = Field(
        None,
        description=(
            "Record audit logs: AWS CloudTrail (management and data events), GCP Data Access logs. "
            "Default: on in protected environments."
        ),
    )
