"""What only Kubernetes needs to realize a platform spec (no provider import: plain data)."""

from __future__ import annotations

from pydantic import Field

from mlops_infra.spec.base import Spec
from mlops_infra.spec.types import ObjectUri


class K8sPlatformSpec(Spec):
    """Kubernetes-only settings of a platform."""

    model_store_uri: ObjectUri | None = Field(
        None, description="Where relative model artifacts are read from (s3://, gs:// or pvc://)."
    )
