"""What only AWS needs to realize a platform spec (no provider import: plain data)."""

from __future__ import annotations

from pydantic import Field

from mlops_infra.spec.base import Spec
from mlops_infra.spec.types import S3Uri


class AwsPlatformSpec(Spec):
    """AWS-only settings of a platform. The region comes from the stack's ``aws:region`` config."""

    model_store_uri: S3Uri | None = Field(
        None, description="s3:// prefix that relative model artifacts are read from; default the registry's bucket."
    )
