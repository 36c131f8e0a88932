"""Field types every GCP component's settings share."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from mlops_infra.gcp.project import REGION_PATTERN, configured_region
from mlops_infra.spec.types import KeyRef

# One region per component: CMEK needs the key, the data and the Vertex resource in the same region.
Region = Annotated[
    str,
    Field(
        default_factory=configured_region,
        pattern=REGION_PATTERN,
        description="GCP region of the resources and their key (default: the gcp:region stack config).",
    ),
]

# A Cloud KMS crypto key id; None means the stack's shared platform key for the region.
KmsKeyName = Annotated[
    KeyRef | None,
    Field(description="Cloud KMS key (projects/.../cryptoKeys/...); default the shared platform key."),
]
