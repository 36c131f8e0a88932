"""Markers a user sets to say "this control is off on purpose" (reviewable in code and in the cloud)."""

from __future__ import annotations

# Tag / label / annotation key whose value "true" states that public exposure is intended.
ALLOW_PUBLIC_MARKER = "mlops-infra/allow-public"
