"""Value types shared by every cloud, each with its one validator next to it.

Components import these instead of carrying their own regexes. Each validator raises
``ValueError`` with the reason; pydantic adds the field path. Types that can come from another
resource accept a ``pulumi.Output`` and check it when known only.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, Field, WithJsonSchema

from mlops_infra.spec.base import StrInput, is_known

# --- numbers with their unit in the type -----------------------------------------------------------

Percent = Annotated[float, Field(ge=0, le=100, description="Percent, 0-100.")]
"""A share in percent (0-100): never a 0-1 fraction."""

PositivePercent = Annotated[float, Field(gt=0, le=100, description="Percent, above 0 and at most 100.")]

# --- names ---------------------------------------------------------------------------------------

_NAME = re.compile(r"^[a-z][a-z0-9-]{0,38}[a-z0-9]$")


def check_name(value: str) -> str:
    """A short resource name: lowercase letters, digits and '-', letter first, 2-40 characters."""
    if not _NAME.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a valid name: use 2-40 lowercase letters, digits and '-', starting with a letter"
        )
    return value


Name = Annotated[str, AfterValidator(check_name), WithJsonSchema({"type": "string", "pattern": _NAME.pattern})]
"""Short, cloud-safe name of a platform part; physical names are ``{project}-{environment}-{name}``."""

_EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")


def check_email(value: str) -> str:
    """An e-mail address (``user@domain.tld``)."""
    if not _EMAIL.fullmatch(value):
        raise ValueError(f"{value!r} is not an e-mail address")
    return value


Email = Annotated[str, AfterValidator(check_email), WithJsonSchema({"type": "string", "format": "email"})]

# --- container images ------------------------------------------------------------------------------

_DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")
_IMAGE = re.compile(
    r"^(?:[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?(?::[0-9]{1,5})?/)?"  # registry host[:port]/
    r"[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*"  # repository path
    r"(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?"  # :tag
    r"(?:@sha256:[0-9a-f]{64})?$"  # @digest
)


def image_tag(image: str) -> str | None:
    """The tag of an image reference, or None when it has none (a digest is not a tag)."""
    without_digest = image.split("@", 1)[0]
    last = without_digest.rsplit("/", 1)[-1]
    return last.rsplit(":", 1)[1] if ":" in last else None


def has_digest(image: str) -> bool:
    """True when the image is pinned by an immutable ``@sha256:`` digest."""
    return bool(_DIGEST.search(image))


def check_pinned_image(image: str) -> str:
    """A container image pinned by a version tag (not ``latest``) or by an ``@sha256:`` digest."""
    if not _IMAGE.fullmatch(image):
        raise ValueError(f"{image!r} is not a container image reference (registry/repository:tag or @sha256:digest)")
    if has_digest(image):
        return image
    tag = image_tag(image)
    if tag is None:
        raise ValueError(f"{image!r} has no tag or digest; pin it (image:1.2.3 or image@sha256:...)")
    if tag.lower() == "latest":
        raise ValueError(f"{image!r} uses the mutable 'latest' tag; pin a version or a digest")
    return image


PinnedImage = Annotated[
    str, AfterValidator(check_pinned_image), WithJsonSchema({"type": "string", "description": "Pinned image."})
]
"""A container image pinned by version tag or digest; protected environments may require a digest."""

# --- object storage URIs ---------------------------------------------------------------------------

_S3 = re.compile(r"^s3://(?!xn--)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?$")
_GCS = re.compile(r"^gs://[a-z0-9][a-z0-9._-]{1,220}[a-z0-9](/.*)?$")
_OTHER = re.compile(r"^(pvc://[a-z0-9][a-z0-9.-]*(/.*)?|oci://\S+|https://\S+)$")
URI_SCHEMES = ("s3", "gs", "pvc", "oci", "https")


def uri_scheme(uri: str) -> str:
    """The scheme of an object URI (``s3``, ``gs``, ...)."""
    return uri.split("://", 1)[0] if "://" in uri else ""


def check_object_uri(uri: str, schemes: tuple[str, ...] = URI_SCHEMES) -> str:
    """An object-storage URI with a valid bucket (``s3://``, ``gs://``) or ``pvc://``, ``oci://``, ``https://``."""
    scheme = uri_scheme(uri)
    if scheme not in schemes:
        allowed = ", ".join(f"{s}://" for s in schemes)
        raise ValueError(f"{uri!r} must start with {allowed}")
    pattern = {"s3": _S3, "gs": _GCS}.get(scheme, _OTHER)
    if not pattern.fullmatch(uri):
        raise ValueError(f"{uri!r} is not a valid {scheme}:// URI (bucket name or path is malformed)")
    return uri


def _known(check: Any) -> Any:
    def validate(value: Any) -> Any:
        return check(value) if is_known(value) else value

    return validate


ObjectUri = Annotated[StrInput, AfterValidator(_known(check_object_uri))]
"""Where data or a model lives: s3://, gs://, pvc://, oci:// or https://; may come from another resource."""

S3Uri = Annotated[StrInput, AfterValidator(_known(lambda v: check_object_uri(v, ("s3",))))]
GcsUri = Annotated[StrInput, AfterValidator(_known(lambda v: check_object_uri(v, ("gs",))))]

# --- cloud identifiers -----------------------------------------------------------------------------

_ARN = re.compile(r"^arn:aws(?:-cn|-us-gov|-iso|-iso-b)?:[a-z0-9-]+:[a-z0-9-]*:(?:[0-9]{12})?:\S+$")


def check_arn(value: str, service: str | None = None) -> str:
    """An AWS ARN (``arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE``), of ``service`` when given."""
    if not _ARN.fullmatch(value):
        raise ValueError(f"{value!r} is not an AWS ARN (arn:aws:SERVICE:REGION:ACCOUNT:RESOURCE)")
    if service is not None and value.split(":")[2] != service:
        raise ValueError(f"{value!r} is not an ARN of {service}")
    return value


Arn = Annotated[StrInput, AfterValidator(_known(check_arn))]

_KMS_ARN = re.compile(
    r"^arn:aws(?:-cn|-us-gov)?:kms:[a-z0-9-]+:[0-9]{12}:(?:key/[0-9a-f-]{36}|key/mrk-[0-9a-f]{32}|alias/[A-Za-z0-9/_-]+)$"
)
_GCP_KEY = re.compile(
    r"^projects/[a-z][a-z0-9-]{4,28}[a-z0-9]/locations/[a-z0-9-]+"
    r"/keyRings/[A-Za-z0-9_-]{1,63}/cryptoKeys/[A-Za-z0-9_-]{1,63}$"
)


def check_key_ref(value: str) -> str:
    """A customer-managed key: an AWS KMS key or alias ARN, or a Cloud KMS ``projects/.../cryptoKeys/...`` name."""
    if _KMS_ARN.fullmatch(value) or _GCP_KEY.fullmatch(value):
        return value
    raise ValueError(
        f"{value!r} is not a customer-managed key: use a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID) "
        "or a Cloud KMS key name (projects/P/locations/L/keyRings/R/cryptoKeys/K)"
    )


KeyRef = Annotated[StrInput, AfterValidator(_known(check_key_ref))]
"""A customer-managed encryption key; None in a spec means the platform's own rotating key."""

_DURATION_DAYS_MAX = 3650
RetentionDays = Annotated[int, Field(ge=1, le=_DURATION_DAYS_MAX, description="Days, 1-3650.")]
