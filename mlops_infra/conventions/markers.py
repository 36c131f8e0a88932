"""Markers a user sets to say "this control is off on purpose" (reviewable in code and in the cloud)."""

from __future__ import annotations

from mlops_infra.conventions.labels import gcp_label

# Tag / label / annotation key whose value "true" states that public exposure is intended.
ALLOW_PUBLIC_MARKER = "mlops-infra/allow-public"


def public_exposure_labels(allowed: bool) -> dict[str, str]:
    """GCP labels stating an explicit public opt-in (GCP label keys allow no "/": label-safe form)."""
    return {gcp_label(ALLOW_PUBLIC_MARKER): "true"} if allowed else {}
