"""ARN types of the AWS services the components point at, each checked by the spec's one ARN validator.

A value known at plan time must be a well-formed ARN of the right service; a ``pulumi.Output``
(another resource's ``arn``) is checked by the provider when it resolves.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from pydantic import AfterValidator

from mlops_infra.spec.aws import check_model_package_version_arn
from mlops_infra.spec.base import StrInput
from mlops_infra.spec.types import check_arn


def check_service_arn(value: str, service: str, resource_prefix: str = "") -> str:
    """``value`` is an ARN of ``service`` whose resource starts with ``resource_prefix`` (``alarm:``, ``role/``)."""
    check_arn(value, service)
    resource = value.split(":", 5)[5]
    if resource_prefix and not resource.startswith(resource_prefix):
        raise ValueError(f"{value!r} is not an ARN of a {service} {resource_prefix.rstrip(':/')}")
    return value


def _service(service: str, resource_prefix: str = "") -> Callable[[StrInput], StrInput]:
    def validate(value: StrInput) -> StrInput:
        if isinstance(value, str):
            check_service_arn(value, service, resource_prefix)
        return value

    return validate


SnsTopicArn = Annotated[StrInput, AfterValidator(_service("sns"))]
"""An SNS topic (``arn:aws:sns:REGION:ACCOUNT:NAME``)."""

AlarmArn = Annotated[StrInput, AfterValidator(_service("cloudwatch", "alarm:"))]
"""A CloudWatch alarm (``arn:aws:cloudwatch:REGION:ACCOUNT:alarm:NAME``)."""

S3BucketArn = Annotated[StrInput, AfterValidator(_service("s3"))]
"""An S3 bucket (``arn:aws:s3:::NAME``)."""

IamRoleArn = Annotated[StrInput, AfterValidator(_service("iam", "role/"))]
"""An IAM role (``arn:aws:iam::ACCOUNT:role/NAME``)."""

EcrRepositoryArn = Annotated[StrInput, AfterValidator(_service("ecr", "repository/"))]
"""An ECR repository (``arn:aws:ecr:REGION:ACCOUNT:repository/NAME``)."""

KmsKeyArn = Annotated[StrInput, AfterValidator(_service("kms", "key/"))]
"""A customer-managed KMS key by its key ARN (``arn:aws:kms:REGION:ACCOUNT:key/ID``): IAM statements scope to
key ARNs, so an alias or a bare key id would silently grant nothing."""


def _key_or_alias(value: StrInput) -> StrInput:
    if isinstance(value, str) and not value.split(":", 5)[-1].startswith("alias/"):
        check_service_arn(value, "kms", "key/")
    elif isinstance(value, str):
        check_service_arn(value, "kms", "alias/")
    return value


KmsKeyOrAliasArn = Annotated[StrInput, AfterValidator(_key_or_alias)]
"""A KMS key or alias ARN, where the service resolves aliases itself (SNS topic encryption)."""


def _package_version(value: StrInput) -> StrInput:
    return check_model_package_version_arn(value) if isinstance(value, str) else value


ModelPackageVersionArn = Annotated[StrInput, AfterValidator(_package_version)]
"""An approved model package version (``.../model-package/GROUP/VERSION``; a group's ARN is not a version)."""
