"""The platform's audit trail on AWS: who called which API on its data, models and endpoints.

A multi-region CloudTrail trail with log file validation (a signed digest every hour, so a deleted or
edited log file is detectable), its files encrypted with the platform key, written to a SecureBucket
(private, TLS-only, versioned, protected in protected environments) whose files move to GLACIER_IR
after ``archive_after_days`` and are never expired by the platform. Besides every management event
it records data events: object reads and writes in the platform's buckets, and SageMaker endpoint
invocations and feature-store record calls of this platform's endpoints and feature groups.

The key must let CloudTrail use it: a :class:`~mlops_infra.aws.platform_key.PlatformKey` with
``cloudtrail.amazonaws.com`` in ``extra_key_users`` (the platform realization does this).
"""

from __future__ import annotations

from typing import Any, Final

import pulumi
import pulumi_aws as aws
from pydantic import Field

from mlops_infra.aws.account import account_id, arn
from mlops_infra.aws.arns import KmsKeyArn
from mlops_infra.aws.global_names import global_name
from mlops_infra.aws.iam import resource_statement
from mlops_infra.aws.platform_key import CLOUDTRAIL_PRINCIPAL
from mlops_infra.aws.secure_bucket import SecureBucket, SecureBucketArgs
from mlops_infra.component import PlatformComponent
from mlops_infra.conventions import naming
from mlops_infra.outputs import concat
from mlops_infra.spec.base import Spec, StrInput, Switch

SAGEMAKER_DATA_TYPES: Final = ("AWS::SageMaker::Endpoint", "AWS::SageMaker::FeatureGroup")
"""SageMaker resource types whose data events (InvokeEndpoint, GetRecord/PutRecord) the trail records."""


class AuditTrailArgs(Spec):
    """The key, the buckets whose objects are audited, and how long log files stay in standard storage."""

    kms_key_arn: KmsKeyArn = Field(description="Customer-managed key of the log files (must admit CloudTrail).")
    data_bucket_arns: list[StrInput] = Field(
        default_factory=list, max_length=50, description="Buckets whose object reads and writes are recorded."
    )
    sagemaker_data_events: Switch = Field(
        True, description="Record InvokeEndpoint and feature-record calls of this platform's SageMaker resources."
    )
    archive_after_days: int = Field(90, ge=1, le=36500, description="Days before log files move to GLACIER_IR.")


def _selector(name: str, *fields: aws.cloudtrail.TrailAdvancedEventSelectorFieldSelectorArgs) -> Any:
    return aws.cloudtrail.TrailAdvancedEventSelectorArgs(name=name, field_selectors=list(fields))


def _field(name: str, **matches: Any) -> aws.cloudtrail.TrailAdvancedEventSelectorFieldSelectorArgs:
    return aws.cloudtrail.TrailAdvancedEventSelectorFieldSelectorArgs(field=name, **matches)


class AuditTrail(PlatformComponent[AuditTrailArgs]):
    """A KMS-encrypted, multi-region, validated CloudTrail trail into a protected, versioned, archiving bucket."""

    TYPE_TOKEN = "mlops-infra:aws:AuditTrail"
    ARGS = AuditTrailArgs

    def __init__(
        self, name: str, args: AuditTrailArgs | dict[str, Any], opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, args, opts)
        a = self.args
        invoke = pulumi.InvokeOutputOptions(parent=self)
        account = account_id(invoke)
        trail_name = global_name(self, name, naming.CLOUDTRAIL)
        trail_arn = arn("cloudtrail", concat("trail/", trail_name), invoke)

        def cloudtrail_writes(bucket_arn: pulumi.Output[str]) -> list[dict[str, Any]]:
            source = {"StringEquals": {"aws:SourceArn": trail_arn}}
            logs = concat(bucket_arn, "/AWSLogs/", account, "/*")
            principal = {"Service": CLOUDTRAIL_PRINCIPAL}
            return [
                resource_statement(
                    ["s3:GetBucketAcl"], [bucket_arn], principal, sid="CloudTrailAclCheck", conditions=source
                ),
                resource_statement(["s3:PutObject"], [logs], principal, sid="CloudTrailWrite", conditions=source),
            ]

        self.bucket = SecureBucket(
            self.child_name("logs"),
            SecureBucketArgs(
                purpose="audit-logs", kms_key_arn=a.kms_key_arn, transition_to_glacier_ir_days=a.archive_after_days
            ),
            opts=self.child_opts(),
            grants=cloudtrail_writes,
        )
        selectors = [_selector("Management events", _field("eventCategory", equals=["Management"]))]
        if a.data_bucket_arns:
            selectors.append(
                _selector(
                    "Objects of the platform's buckets",
                    _field("eventCategory", equals=["Data"]),
                    _field("resources.type", equals=["AWS::S3::Object"]),
                    _field("resources.ARN", starts_withs=[concat(b, "/") for b in a.data_bucket_arns]),
                )
            )
        if a.sagemaker_data_events:
            prefix = naming.physical_name(
                self.platform.settings.project, self.platform.environment, "", naming.SAGEMAKER
            ).lower()
            for resource_type in SAGEMAKER_DATA_TYPES:
                kind = "endpoint" if resource_type.endswith("Endpoint") else "feature-group"
                arn_prefix = arn("sagemaker", f"{kind}/{prefix}-", invoke)
                selectors.append(
                    _selector(
                        f"The platform's {resource_type.rsplit('::', 1)[1]}s",
                        _field("eventCategory", equals=["Data"]),
                        _field("resources.type", equals=[resource_type]),
                        _field("resources.ARN", starts_withs=[arn_prefix]),
                    )
                )
        self.trail = aws.cloudtrail.Trail(
            self.child_name("trail"),
            name=trail_name,
            s3_bucket_name=self.bucket.bucket_name,
            kms_key_id=a.kms_key_arn,
            is_multi_region_trail=True,
            include_global_service_events=True,
            enable_log_file_validation=True,
            enable_logging=True,
            advanced_event_selectors=selectors,
            opts=self.child_opts(depends_on=[self.bucket]),
        )
        self.trail_arn: pulumi.Output[str] = self.trail.arn
        self.bucket_name: pulumi.Output[str] = self.bucket.bucket_name
        self.register_outputs({"trailArn": self.trail_arn, "bucketName": self.bucket_name})
