"""What only GCP needs to realize a platform spec (no provider import: plain data)."""

from __future__ import annotations

from pydantic import Field

from mlops_infra.spec.base import Spec
from mlops_infra.spec.types import GcsUri


class GcpPlatformSpec(Spec):
    """GCP-only settings of a platform. The project comes from the stack's ``gcp:project`` config."""

    region: str = Field("europe-west4", pattern=r"^[a-z]+-[a-z]+[0-9]$", description="Vertex AI region.")
    model_store_uri: GcsUri | None = Field(
        None, description="gs:// prefix that relative model artifacts are read from; default the registry's bucket."
    )
