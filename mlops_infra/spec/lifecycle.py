"""Storage lifecycle of the platform's buckets: when objects move to archive storage.

Every bucket the platform creates for data or models (model store, training artifacts or pipeline
root, data capture, feature-store offline/staging data) gets the same archive transition. The
archive classes chosen per cloud (S3 Glacier Instant Retrieval, GCS Archive) are read in
milliseconds without a restore, so a model version the registry still references stays deployable.

The lifecycle never deletes live objects in a bucket that holds model artifacts, on any cloud and
in any environment: a registered version may reference any of them (docs/platform.md).
"""

from __future__ import annotations

from pydantic import Field

from mlops_infra.spec.base import Spec


class LifecycleSpec(Spec):
    """When the platform's objects move to archive storage."""

    archive_after_days: int | None = Field(
        90,
        ge=1,
        le=36500,
        description="Days after creation before objects move to archive storage (S3 GLACIER_IR, GCS ARCHIVE); "
        "null keeps them in standard storage (an explicit opt-out).",
    )
