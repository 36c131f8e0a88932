"""S3 locations: checked by the spec's one object-URI validator, split here for IAM resources."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator

from mlops_infra.spec.types import check_object_uri


def split_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/key`` -> ``(bucket, key)`` with no leading or trailing slash on the key."""
    check_object_uri(uri, ("s3",))
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key.strip("/")


def check_s3_object(uri: str) -> str:
    """``uri`` names an S3 object (``s3://BUCKET/KEY``), not a bucket or a prefix."""
    _, key = split_s3_uri(uri)
    if not key or uri.endswith("/"):
        raise ValueError(f"{uri!r} must name an S3 object (s3://BUCKET/KEY), not a bucket or prefix")
    return uri


def _s3(uri: str) -> str:
    return check_object_uri(uri, ("s3",))


KnownS3Uri = Annotated[str, AfterValidator(_s3)]
"""An ``s3://`` URI known at plan time (the execution role is granted its bucket and prefix)."""
