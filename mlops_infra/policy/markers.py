"""Explicit markers on resources: the allow-public tag, label or annotation, and "true" annotations in general."""

from __future__ import annotations

from mlops_infra.conventions.labels import gcp_label
from mlops_infra.policy.config import PolicyConfig
from mlops_infra.policy.model import ResourceView
from mlops_infra.policy.values import UnknownValue


def marker_keys(config: PolicyConfig) -> tuple[str, ...]:
    """The marker as an AWS tag / Kubernetes label or annotation key, and in GCP label-safe form."""
    return (config.allow_public_marker, gcp_label(config.allow_public_marker))


def public_allowed(view: ResourceView, config: PolicyConfig) -> bool:
    """True when the resource carries the allow-public marker set to "true"."""
    try:
        maps = [view.label_map(), view.annotations()]
    except UnknownValue:
        return False
    return any(str(m.get(key, "")).lower() == "true" for m in maps for key in marker_keys(config))


def annotated(view: ResourceView, key: str) -> bool:
    """True when the object's annotation ``key`` is "true" (an explicit, reviewable opt-out of a control)."""
    return str(view.annotations().get(key, "")).lower() == "true"


def marker_hint(config: PolicyConfig, view: ResourceView) -> str:
    """How to state that exposure is intended, in the resource's own tag/label syntax."""
    key = config.allow_public_marker
    if view.package == "gcp":
        return f'label {gcp_label(key)}: "true"'
    if view.package == "kubernetes":
        return f'annotation {key}: "true"'
    return f'tag {key}: "true"'
