"""Images SageMaker runs: pinned (the spec's one check) and pulled from Amazon ECR (the AWS part).

SageMaker hosting, training and processing pull only from ECR, so an AWS image must be an ECR
URI as well as pinned; the execution roles are granted exactly the repositories of their images.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, WithJsonSchema

from mlops_infra.spec.types import check_pinned_image

# ACCOUNT.dkr.ecr.REGION.amazonaws.com[.cn]/REPOSITORY[:TAG][@sha256:DIGEST]
_ECR_IMAGE = re.compile(
    r"(?P<account>[0-9]{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?P<china>\.cn)?/"
    r"(?P<repository>(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*)"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?"
    r"(?:@(?P<digest>sha256:[a-f0-9]{64}))?"
)


def parse_ecr_image(image: str) -> re.Match[str]:
    """The parts of an ECR image URI; raises ValueError for anything else."""
    match = _ECR_IMAGE.fullmatch(image)
    if match is None:
        raise ValueError(
            f"{image!r} is not an Amazon ECR image URI (ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPOSITORY:TAG "
            "or @sha256:DIGEST); SageMaker pulls images from ECR"
        )
    return match


def ecr_repository_arn(image: str) -> str:
    """ARN of the ECR repository an image is pulled from (its account and region, not the caller's)."""
    parts = parse_ecr_image(image)
    partition = "aws-cn" if parts["china"] else "aws-us-gov" if parts["region"].startswith("us-gov-") else "aws"
    return f"arn:{partition}:ecr:{parts['region']}:{parts['account']}:repository/{parts['repository']}"


def check_ecr_image(image: str) -> str:
    """An ECR image pinned by a version tag (not ``latest``) or an ``@sha256`` digest."""
    parse_ecr_image(image)
    try:
        return check_pinned_image(image)
    except ValueError as exc:
        raise ValueError(
            f"must be pinned, so a deploy is reproducible and a new image is a new version: {exc}"
        ) from None


EcrImage = Annotated[
    str, AfterValidator(check_ecr_image), WithJsonSchema({"type": "string", "description": "Pinned ECR image."})
]
"""A pinned Amazon ECR image: what SageMaker runs."""
