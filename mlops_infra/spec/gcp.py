"""What only GCP needs to realize a platform spec (no provider import: plain data)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from mlops_infra.spec.base import Spec
from mlops_infra.spec.types import GcsUri

BILLING_ACCOUNT_PATTERN = r"^[0-9A-F]{6}-[0-9A-F]{6}-[0-9A-F]{6}$"
NETWORK_PATTERN = r"^projects/[^/]+/global/networks/[^/]+$"
ProjectId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")]


class GcpPlatformSpec(Spec):
    """GCP-only settings of a platform. The project comes from the stack's ``gcp:project`` config."""

    region: str = Field("europe-west4", pattern=r"^[a-z]+-[a-z]+[0-9]+$", description="Vertex AI region.")
    model_store_uri: GcsUri | None = Field(
        None, description="gs:// prefix that relative model artifacts are read from; default the registry's bucket."
    )
    billing_account: str | None = Field(
        None,
        pattern=BILLING_ACCOUNT_PATTERN,
        description="Cloud Billing account (XXXXXX-XXXXXX-XXXXXX) the budget watches; required on GCP.",
    )
    network: str | None = Field(
        None,
        pattern=NETWORK_PATTERN,
        description="VPC that endpoints peer with; None serves them over Private Service Connect to this project.",
    )
    group_domain: str | None = Field(
        None,
        pattern=r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$",
        description="Cloud Identity domain of the access groups: group 'ml-leads' is group:ml-leads@<domain>.",
    )
    drift_engine: Literal["bigquery", "vertex_model_monitoring"] = Field(
        "bigquery",
        description="How monitoring.drift is measured: a scheduled BigQuery query of the request logs, or Vertex AI "
        "model monitoring jobs (schedule must be hourly-regular: every N hours with N dividing 24, or daily).",
    )
    psc_project_allowlist: list[ProjectId] = Field(
        default_factory=list,
        max_length=50,
        description="Projects allowed to reach endpoints over Private Service Connect; default the deploying one.",
    )

    @model_validator(mode="after")
    def _one_network_path(self) -> GcpPlatformSpec:
        if self.network is not None and self.psc_project_allowlist:
            raise ValueError(
                "network (VPC peering) and psc_project_allowlist (Private Service Connect) exclude each other"
            )
        return self
