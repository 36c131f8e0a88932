"""Field types every GCP component's settings share."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field

from mlops_infra.gcp.project import REGION_PATTERN, configured_region
from mlops_infra.spec.base import StrInput, is_known
from mlops_infra.spec.types import KeyRef

NETWORK_PATTERN = re.compile(r"^projects/[^/]+/global/networks/[^/]+$")


def check_network(value: StrInput) -> StrInput:
    """A VPC network name, ``projects/{project number}/global/networks/{name}`` (checked when known)."""
    if is_known(value) and not NETWORK_PATTERN.fullmatch(str(value)):
        raise ValueError(f"{value!r} is not a VPC network name like projects/123/global/networks/ml")
    return value


# A VPC network; may come from a ``gcp.compute.Network`` (its ``id``).
Network = Annotated[StrInput, AfterValidator(check_network)]

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
