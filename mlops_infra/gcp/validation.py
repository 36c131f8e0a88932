"""GCP identifier patterns shared by the GCP args (value types live in ``mlops_infra.spec.types``)."""

from __future__ import annotations

from mlops_infra.spec.types import check_pinned_image, has_digest

# Vertex Feature Store ids (online stores, feature groups, features, views): [a-z0-9_], letter first.
VERTEX_FEATURE_PATTERN = r"^[a-z][a-z0-9_]{0,59}$"
# BigQuery dataset/table ids and column names.
BIGQUERY_ID_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,1023}$"
# Vertex model version aliases: lowercase letter first, then letters, digits or '-', at most 128.
VERSION_ALIAS_PATTERN = r"^[a-z][a-zA-Z0-9-]{0,126}[a-z0-9]$"


def check_image(uri: str, *, require_digest: bool) -> str:
    """A pinned image (the spec's one rule); ``require_digest`` also refuses a version tag."""
    check_pinned_image(uri)
    if require_digest and not has_digest(uri):
        raise ValueError(f"{uri!r} must be pinned by digest (image@sha256:<64 hex>)")
    return uri
