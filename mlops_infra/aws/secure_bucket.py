"""A private, KMS-encrypted, TLS-only, versioned S3 bucket: the store every AWS component writes data to."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi
import pulumi_aws as aws
from pydantic import Field, ValidationInfo, field_validator

from mlops_infra.aws.account import account_id, region_name
from mlops_infra.aws.arns import KmsKeyArn
from mlops_infra.aws.iam import policy_document, statement
from mlops_infra.component import PlatformComponent
from mlops_infra.conventions import naming
from mlops_infra.outputs import combined
from mlops_infra.spec.base import Spec as ComponentArgs
from mlops_infra.spec.base import Switch

# S3 keeps objects in STANDARD_IA for at least 30 days before any further transition (S3 User Guide,
# "Transitioning objects using Amazon S3 Lifecycle"), and will not move them there sooner than 30 days.
MIN_DAYS_BEFORE_IA = 30
MIN_DAYS_IN_IA = 30


def check_transition_order(ia_days: int | None, glacier_ir_days: int | None) -> None:
    """Raise ValueError unless objects spend S3's minimum time in STANDARD_IA before GLACIER_IR."""
    if ia_days is not None and glacier_ir_days is not None and glacier_ir_days < ia_days + MIN_DAYS_IN_IA:
        raise ValueError(
            f"transition_to_glacier_ir_days ({glacier_ir_days}) must be at least {MIN_DAYS_IN_IA} days after "
            f"transition_to_ia_days ({ia_days}): S3 keeps objects in STANDARD_IA for {MIN_DAYS_IN_IA} days"
        )


class SecureBucketArgs(ComponentArgs):
    """Settings of a secure bucket. Every control is on unless a field turns it off by name."""

    purpose: str = Field(
        min_length=1,
        max_length=63,
        pattern=r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$",
        description="What the bucket holds (e.g. 'offline-store'); set as its `purpose` tag for cost reports.",
    )
    kms_key_arn: KmsKeyArn = Field(description="ARN of the customer-managed KMS key every object is encrypted with.")
    versioning: Switch = Field(True, description="Keep every object version (recovery from overwrite and deletion).")
    transition_to_ia_days: int | None = Field(
        None, ge=MIN_DAYS_BEFORE_IA, le=36500, description="Days after creation before objects move to STANDARD_IA."
    )
    transition_to_glacier_ir_days: int | None = Field(
        None, ge=1, le=36500, description="Days after creation before objects move to GLACIER_IR."
    )
    noncurrent_version_expiration_days: int | None = Field(
        None, ge=1, le=36500, description="Days a replaced (noncurrent) object version is kept before expiry."
    )
    abort_incomplete_multipart_upload_days: int = Field(
        7, ge=1, le=365, description="Days before parts of an unfinished multipart upload are removed (billed storage)."
    )
    expire_prefixes: dict[str, int] = Field(
        default_factory=dict,
        description="Key prefix (ending in '/') -> days after creation its objects expire (their old versions 1 day "
        "later), e.g. asynchronous inference results.",
    )
    force_destroy: Switch = Field(
        False, description="Let `pulumi destroy` delete a bucket that still holds objects. Never in production."
    )

    @field_validator("transition_to_glacier_ir_days")
    @classmethod
    def _after_ia(cls, days: int | None, info: ValidationInfo) -> int | None:
        check_transition_order(info.data.get("transition_to_ia_days"), days)
        return days

    @field_validator("noncurrent_version_expiration_days")
    @classmethod
    def _needs_versions(cls, days: int | None, info: ValidationInfo) -> int | None:
        if days is not None and info.data.get("versioning") is False:
            raise ValueError("needs versioning=True: an unversioned bucket has no noncurrent versions")
        return days

    @field_validator("expire_prefixes")
    @classmethod
    def _prefix_days(cls, prefixes: dict[str, int]) -> dict[str, int]:
        for prefix, days in prefixes.items():
            if not prefix.endswith("/") or prefix.startswith("/") or len(prefix) > 1024:
                raise ValueError(f"prefix {prefix!r} must be a key prefix ending in '/' (not starting with '/')")
            if not 1 <= days <= 36500:
                raise ValueError(f"prefix {prefix!r}: expiry must be 1-36500 days, not {days}")
        return prefixes

    @property
    def has_lifecycle(self) -> bool:
        """True when any transition or expiry is configured (then a lifecycle configuration is created)."""
        return bool(self.expire_prefixes) or self.has_tiering

    @property
    def has_tiering(self) -> bool:
        """True when the whole-bucket rule (transitions, noncurrent expiry) is configured."""
        return any(
            days is not None
            for days in (
                self.transition_to_ia_days,
                self.transition_to_glacier_ir_days,
                self.noncurrent_version_expiration_days,
            )
        )


class SecureBucket(PlatformComponent[SecureBucketArgs]):
    """An S3 bucket that cannot be made public, read over plain HTTP, or written without KMS.

    The physical name is ``{project}-{env}-{name}-{account}-{region}``: bucket names are global
    across every AWS account, so the account and region keep one project's stacks from colliding,
    and the logical ``name`` (unique in the stack) keeps two buckets of one stack apart.
    """

    TYPE_TOKEN = "mlops-infra:aws:SecureBucket"
    ARGS = SecureBucketArgs

    def __init__(
        self,
        name: str,
        args: SecureBucketArgs | dict[str, Any] | None = None,
        opts: pulumi.ResourceOptions | None = None,
        *,
        grants: Callable[[pulumi.Output[str]], list[dict[str, Any]]] | None = None,
    ) -> None:
        """``grants(bucket_arn)``: extra Allow statements for AWS services that write here (e.g. CloudTrail)."""
        super().__init__(name, args, opts)
        self._grants = grants
        settings = self.args
        invoke_opts = pulumi.InvokeOutputOptions(parent=self)
        physical = combined(
            lambda account, region: self.platform.name(f"{name}-{account}-{region}", naming.S3_BUCKET),
            account_id(invoke_opts),
            region_name(invoke_opts),
        )
        self.bucket = aws.s3.Bucket(
            self.child_name("bucket"),
            bucket=physical,
            force_destroy=settings.force_destroy,
            tags={"purpose": settings.purpose},
            opts=self.child_opts(),
        )
        bucket_id = self.bucket.bucket
        self.encryption = aws.s3.BucketServerSideEncryptionConfiguration(
            self.child_name("encryption"),
            bucket=bucket_id,
            rules=[
                aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                        sse_algorithm="aws:kms",
                        kms_master_key_id=settings.kms_key_arn,
                    ),
                    # One data key per bucket instead of per object: up to 99% fewer KMS calls.
                    bucket_key_enabled=True,
                )
            ],
            opts=self.child_opts(),
        )
        self.versioning: aws.s3.BucketVersioning | None = None
        if settings.versioning:
            self.versioning = aws.s3.BucketVersioning(
                self.child_name("versioning"),
                bucket=bucket_id,
                versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
                opts=self.child_opts(),
            )
        self.public_access_block = aws.s3.BucketPublicAccessBlock(
            self.child_name("public-access-block"),
            bucket=bucket_id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=self.child_opts(),
        )
        self.ownership = aws.s3.BucketOwnershipControls(
            self.child_name("ownership"),
            bucket=bucket_id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            opts=self.child_opts(),
        )
        # S3 rejects a policy write while the public access block is still being applied.
        self.policy = aws.s3.BucketPolicy(
            self.child_name("policy"),
            bucket=bucket_id,
            policy=self._policy_document(),
            opts=self.child_opts(depends_on=[self.public_access_block]),
        )
        self.lifecycle: aws.s3.BucketLifecycleConfiguration | None = None
        if settings.has_lifecycle:
            # Rules on a versioned bucket need versioning in place first.
            after = [self.versioning] if self.versioning is not None else []
            self.lifecycle = aws.s3.BucketLifecycleConfiguration(
                self.child_name("lifecycle"),
                bucket=bucket_id,
                rules=[*([self._lifecycle_rule()] if settings.has_tiering else []), *self._expiry_rules()],
                opts=self.child_opts(depends_on=after),
            )
        self.bucket_name: pulumi.Output[str] = self.bucket.bucket
        self.arn: pulumi.Output[str] = self.bucket.arn
        self.register_outputs({"bucketName": self.bucket_name, "arn": self.arn})

    def _policy_document(self) -> pulumi.Output[str]:
        """Deny plain-HTTP access and uploads that ask for an encryption other than KMS."""
        objects = self.bucket.arn.apply(lambda arn: f"{arn}/*")
        everyone = {"Principal": "*"}
        tls_only = statement(
            ["s3:*"],
            [self.bucket.arn, objects],
            sid="DenyInsecureTransport",
            effect="Deny",
            conditions={"Bool": {"aws:SecureTransport": "false"}},
        )
        # "IfExists": uploads without the header still get the bucket's default KMS encryption.
        kms_only = statement(
            ["s3:PutObject"],
            [objects],
            sid="DenyNonKmsEncryption",
            effect="Deny",
            conditions={"StringNotEqualsIfExists": {"s3:x-amz-server-side-encryption": "aws:kms"}},
        )
        extra = self._grants(self.bucket.arn) if self._grants is not None else []
        return policy_document([{**tls_only, **everyone}, {**kms_only, **everyone}, *extra])

    def _expiry_rules(self) -> list[aws.s3.BucketLifecycleConfigurationRuleArgs]:
        """One rule per expiring prefix: current objects after its days, replaced versions a day later."""
        return [
            aws.s3.BucketLifecycleConfigurationRuleArgs(
                id=f"expire-{prefix.rstrip('/').replace('/', '-')}"[:255],
                status="Enabled",
                filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=prefix),
                expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=days),
                noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                    noncurrent_days=1
                ),
                abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                    days_after_initiation=min(days, self.args.abort_incomplete_multipart_upload_days)
                ),
            )
            for prefix, days in sorted(self.args.expire_prefixes.items())
        ]

    def _lifecycle_rule(self) -> aws.s3.BucketLifecycleConfigurationRuleArgs:
        settings = self.args
        transitions = [
            aws.s3.BucketLifecycleConfigurationRuleTransitionArgs(days=days, storage_class=storage_class)
            for days, storage_class in (
                (settings.transition_to_ia_days, "STANDARD_IA"),
                (settings.transition_to_glacier_ir_days, "GLACIER_IR"),
            )
            if days is not None
        ]
        expiry = settings.noncurrent_version_expiration_days
        return aws.s3.BucketLifecycleConfigurationRuleArgs(
            id="tiering-and-expiry",
            status="Enabled",
            # An empty filter applies the rule to every object in the bucket.
            filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(),
            transitions=transitions or None,
            noncurrent_version_expiration=(
                aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(noncurrent_days=expiry)
                if expiry is not None
                else None
            ),
            abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                days_after_initiation=settings.abort_incomplete_multipart_upload_days
            ),
        )
