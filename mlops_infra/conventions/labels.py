"""Tag values in the forms GCP labels and Kubernetes labels accept."""

from __future__ import annotations

import re

LABEL_MAX = 63


def gcp_label(value: str) -> str:
    """GCP label keys/values: lowercase letters, digits, ``_`` and ``-``, at most 63 characters."""
    return re.sub(r"[^a-z0-9_-]", "_", value.lower())[:LABEL_MAX]


def gcp_labels(tags: dict[str, str]) -> dict[str, str]:
    return {gcp_label(k): gcp_label(v) for k, v in tags.items()}


def k8s_label_value(value: str) -> str:
    """Kubernetes label values: ``[A-Za-z0-9._-]``, start and end alphanumeric, at most 63."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "-", value)[:LABEL_MAX]
    return cleaned.strip("._-") or "none"


def k8s_labels(tags: dict[str, str]) -> dict[str, str]:
    return {k: k8s_label_value(v) for k, v in tags.items()}
