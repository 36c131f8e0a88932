"""Value checks shared by the GCP settings models (each raises ValueError with the reason)."""

from __future__ import annotations

import re
from typing import Any

from pydantic_core import InitErrorDetails, PydanticCustomError, ValidationError

# Vertex Feature Store ids (online stores, feature groups, features, views): [a-z0-9_], letter first.
VERTEX_FEATURE_PATTERN = r"^[a-z][a-z0-9_]{0,59}$"
# BigQuery dataset/table ids and column names.
BIGQUERY_ID_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,1023}$"
# Vertex model version aliases: lowercase letter first, then letters, digits or '-', at most 128.
VERSION_ALIAS_PATTERN = r"^[a-z][a-zA-Z0-9-]{0,126}[a-z0-9]$"

_CRON_FIELD = re.compile(r"^[0-9A-Za-z*/,?-]+$")
_TZ_PREFIX = re.compile(r"^(?:CRON_TZ|TZ)=[A-Za-z0-9_+/-]+\s+")
_DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")


def check_cron(expression: str) -> str:
    """A 5-field unix-cron expression, optionally prefixed with ``CRON_TZ=<zone>``."""
    body = _TZ_PREFIX.sub("", expression.strip(), count=1)
    fields = body.split()
    if len(fields) != 5 or not all(_CRON_FIELD.match(f) for f in fields):
        raise ValueError(f"{expression!r} is not a 5-field cron expression like '0 3 * * 1'")
    return expression


def check_image(uri: str, *, require_digest: bool) -> str:
    """A container image pinned by digest (``@sha256:...``) or, where allowed, by a non-latest tag."""
    if _DIGEST.search(uri):
        return uri
    if require_digest:
        raise ValueError(f"{uri!r} must be pinned by digest (image@sha256:<64 hex>)")
    last = uri.rsplit("/", 1)[-1]
    if ":" not in last:
        raise ValueError(f"{uri!r} has no tag or digest; pin it (image:tag or image@sha256:...)")
    if last.rsplit(":", 1)[1] == "latest":
        raise ValueError(f"{uri!r} uses the mutable 'latest' tag; pin a version or a digest")
    return uri


def check_gcs_uri(uri: str) -> str:
    """A ``gs://bucket/path`` URI."""
    if not re.match(r"^gs://[a-z0-9][a-z0-9._-]{1,220}[a-z0-9](/.*)?$", uri):
        raise ValueError(f"{uri!r} is not a gs://bucket/path URI")
    return uri


def field_error(title: str, location: tuple[str | int, ...], message: str, value: Any) -> Exception:
    """A pydantic ValidationError for one field, for checks that need the stack's environment."""
    detail: InitErrorDetails = {
        "type": PydanticCustomError("environment_rule", "{reason}", {"reason": message}),
        "loc": location,
        "input": value,
    }
    return ValidationError.from_exception_data(title, [detail])
