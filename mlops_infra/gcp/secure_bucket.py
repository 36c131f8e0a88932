"""A GCS bucket that is private, CMEK-encrypted, versioned and cleaned up by lifecycle rules."""

from __future__ import annotations

from typing import Any, Literal

import pulumi
import pulumi_gcp as gcp
from pydantic import Field

from mlops_infra.component import PlatformComponent
from mlops_infra.config.base import ComponentArgs
from mlops_infra.conventions import naming
from mlops_infra.conventions.markers import public_exposure_labels
from mlops_infra.gcp.iam import ServiceAgent
from mlops_infra.gcp.platform_key import key_for
from mlops_infra.gcp.settings import KmsKeyName, Region
from mlops_infra.outputs import concat
from mlops_infra.spec.base import Switch

SECONDS_PER_DAY = 86_400
STORAGE_CLASSES = ("STANDARD", "NEARLINE", "COLDLINE", "ARCHIVE")


class SecureBucketArgs(ComponentArgs):
    """Settings of a secure bucket."""

    region: Region
    bucket_name: str | None = Field(
        None,
        min_length=3,
        max_length=63,
        pattern=r"^[a-z0-9][a-z0-9-]*[a-z0-9]$",
        description="Explicit global bucket name; default {project}-{environment}-{name}.",
    )
    kms_key_name: KmsKeyName = None
    storage_class: Literal["STANDARD", "NEARLINE", "COLDLINE", "ARCHIVE"] = "STANDARD"
    noncurrent_version_days: int = Field(
        30, ge=1, le=3650, description="Days a replaced or deleted object version is kept before deletion."
    )
    expire_objects_after_days: int | None = Field(
        None, ge=1, le=36500, description="Delete live objects this many days old (None keeps them)."
    )
    archive_after_days: int | None = Field(
        None,
        ge=1,
        le=36500,
        description="Days after creation before objects move to the ARCHIVE class (read without a restore).",
    )
    soft_delete_days: int = Field(7, ge=0, le=90, description="Soft-delete retention in days (0 turns it off).")
    allow_public_access: Switch = Field(
        False, description="Explicit opt-out of public access prevention (never needed for ML data)."
    )
    force_destroy: Switch = Field(False, description="Let `pulumi destroy` delete a non-empty bucket.")


class SecureBucket(PlatformComponent[SecureBucketArgs]):
    """GCS bucket: CMEK default key, uniform bucket-level access, public access prevention, versioning."""

    TYPE_TOKEN = "mlops-infra:gcp:SecureBucket"
    ARGS = SecureBucketArgs

    def __init__(
        self,
        name: str,
        args: SecureBucketArgs | dict[str, Any] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(name, args, opts)
        a = self.args
        key = key_for(a.kms_key_name, a.region, ServiceAgent.STORAGE, requester=self)
        rules = [
            gcp.storage.BucketLifecycleRuleArgs(
                action=gcp.storage.BucketLifecycleRuleActionArgs(type="Delete"),
                condition=gcp.storage.BucketLifecycleRuleConditionArgs(
                    days_since_noncurrent_time=a.noncurrent_version_days, with_state="ARCHIVED"
                ),
            ),
            gcp.storage.BucketLifecycleRuleArgs(
                action=gcp.storage.BucketLifecycleRuleActionArgs(type="AbortIncompleteMultipartUpload"),
                condition=gcp.storage.BucketLifecycleRuleConditionArgs(age=7),
            ),
        ]
        if a.archive_after_days is not None and a.storage_class != "ARCHIVE":
            rules.append(
                gcp.storage.BucketLifecycleRuleArgs(
                    action=gcp.storage.BucketLifecycleRuleActionArgs(type="SetStorageClass", storage_class="ARCHIVE"),
                    condition=gcp.storage.BucketLifecycleRuleConditionArgs(
                        age=a.archive_after_days,
                        matches_storage_classes=[c for c in STORAGE_CLASSES if c != "ARCHIVE"],
                    ),
                )
            )
        if a.expire_objects_after_days is not None:
            rules.append(
                gcp.storage.BucketLifecycleRuleArgs(
                    action=gcp.storage.BucketLifecycleRuleActionArgs(type="Delete"),
                    condition=gcp.storage.BucketLifecycleRuleConditionArgs(
                        age=a.expire_objects_after_days, with_state="LIVE"
                    ),
                )
            )
        self.bucket = gcp.storage.Bucket(
            self.child_name("bucket"),
            name=a.bucket_name or self.platform.name(name, naming.GCS_BUCKET),
            location=a.region.upper(),
            storage_class=a.storage_class,
            uniform_bucket_level_access=True,
            public_access_prevention="inherited" if a.allow_public_access else "enforced",
            labels=public_exposure_labels(a.allow_public_access) or None,
            versioning=gcp.storage.BucketVersioningArgs(enabled=True),
            encryption=gcp.storage.BucketEncryptionArgs(default_kms_key_name=key.name),
            lifecycle_rules=rules,
            soft_delete_policy=gcp.storage.BucketSoftDeletePolicyArgs(
                retention_duration_seconds=a.soft_delete_days * SECONDS_PER_DAY
            ),
            force_destroy=a.force_destroy,
            # The GCS service agent must hold encrypt/decrypt on the key before the first write.
            opts=self.child_opts(depends_on=list(key.depends_on)),
        )
        self.bucket_name: pulumi.Output[str] = self.bucket.name
        self.url: pulumi.Output[str] = concat("gs://", self.bucket.name)
        self.register_outputs({"name": self.bucket_name, "url": self.url})
