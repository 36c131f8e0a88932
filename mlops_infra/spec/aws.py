"""What only AWS needs to realize a platform spec (no provider import: plain data)."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field, Strict, field_validator

from mlops_infra.spec.base import Spec
from mlops_infra.spec.types import Name, S3Uri, check_arn

_PACKAGE_VERSION = re.compile(
    r"^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:[0-9]{12}:model-package/[A-Za-z0-9-]{1,63}/[0-9]+$"
)


def check_model_package_version_arn(value: str) -> str:
    """A SageMaker model package *version* ARN (``.../model-package/GROUP/VERSION``), not a group's."""
    check_arn(value, "sagemaker")
    if not _PACKAGE_VERSION.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a model package version ARN "
            "(arn:aws:sagemaker:REGION:ACCOUNT:model-package/GROUP/VERSION; a group ARN is not a version)"
        )
    return value


ModelPackageVersionArn = Annotated[str, AfterValidator(check_model_package_version_arn)]
_IDENTITY_PROVIDER = re.compile(
    r"^arn:aws[a-z-]*:iam::[0-9]{12}:(?:saml-provider/[A-Za-z0-9._-]{1,128}|oidc-provider/.+)$"
)


def check_identity_provider_arn(value: str) -> str:
    """An IAM SAML provider or OIDC provider ARN: the identity provider people sign in through."""
    check_arn(value, "iam")
    if not _IDENTITY_PROVIDER.fullmatch(value):
        raise ValueError(
            f"{value!r} is not an IAM identity provider ARN "
            "(arn:aws:iam::ACCOUNT:saml-provider/NAME or arn:aws:iam::ACCOUNT:oidc-provider/HOST)"
        )
    return value


IdentityProviderArn = Annotated[str, AfterValidator(check_identity_provider_arn)]
SubnetId = Annotated[str, Field(pattern=r"^subnet-[0-9a-f]{8,17}$")]


class AwsNetworkSpec(Spec):
    """A VPC's private subnets the platform's Amazon MWAA (Airflow) environment runs in.

    MWAA needs exactly two private subnets in different Availability Zones, with a route to AWS
    services (a NAT gateway or VPC endpoints); the platform creates the security group in ``vpc_id``.
    """

    vpc_id: str = Field(pattern=r"^vpc-[0-9a-f]{8,17}$", description="The VPC the two subnets belong to.")
    private_subnet_ids: list[SubnetId] = Field(
        min_length=2, max_length=2, description="Two private subnets in different Availability Zones."
    )

    @field_validator("private_subnet_ids")
    @classmethod
    def _two_subnets(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError(f"private_subnet_ids names a subnet twice: {value}")
        return value


ApprovedVersion = Annotated[int, Strict(), Field(ge=1)] | ModelPackageVersionArn
"""An approved version: its number in the platform's own registry group, or a version ARN of another registry."""


class AwsPlatformSpec(Spec):
    """AWS-only settings of a platform. The region comes from the stack's ``aws:region`` config."""

    model_store_uri: S3Uri | None = Field(
        None, description="s3:// prefix that relative model artifacts are read from; default the registry's bucket."
    )
    approved_model_packages: dict[Name, ApprovedVersion] = Field(
        default_factory=dict,
        description=(
            "Per endpoint or batch name, the approved model package version it serves: a version number of the "
            "platform's registry group, or a version ARN. Required in protected environments (policy model-approval)."
        ),
    )
    identity_provider_arn: IdentityProviderArn | None = Field(
        None,
        description=(
            "IAM SAML or OIDC provider the access personas sign in through; each persona's role trusts it. "
            "Required when access names any group."
        ),
    )
    identity_provider_audience: str | None = Field(
        None,
        min_length=1,
        max_length=255,
        description="OIDC only: the client id (aud claim) the roles accept. Required with an oidc-provider ARN.",
    )
    audit_archive_after_days: int = Field(
        90, ge=1, le=36500, description="Days before CloudTrail log files move to GLACIER_IR (never expired)."
    )
    network: AwsNetworkSpec | None = Field(
        None,
        description="VPC and private subnets of the Airflow environment (training.orchestrator: airflow); "
        "required with that orchestrator, unused otherwise.",
    )
    analyzer_image_uri: str | None = Field(
        None,
        min_length=1,
        max_length=255,
        description=(
            "The SageMaker Model Monitor analyzer image the drift jobs and the baseline step run; default the "
            "region's. SageMaker publishes none in GovCloud: copy it to your ECR and name the copy here."
        ),
    )
    approved_challenger_packages: dict[Name, ApprovedVersion] = Field(
        default_factory=dict,
        description=(
            "Per endpoint name, the approved model package version its challenger serves (same forms as "
            "approved_model_packages). Required in protected environments for every endpoint with a challenger."
        ),
    )
