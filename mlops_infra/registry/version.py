"""What a registry resolver answers: the approved version an endpoint deploys."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True)
class ApprovedVersion:
    """One approved model version.

    ``reference`` is what the endpoint deploys: a SageMaker model package version ARN, a Vertex
    ``projects/.../models/M@VERSION_ID``, or the storage URI of an MLflow version's artifacts.
    ``version`` is the registry's own version id, ``source`` says who answered (for logs).
    """

    reference: str
    version: str
    source: str


class NoApprovedVersionError(RuntimeError):
    """A protected environment follows ``latest_approved`` and the registry has no approved version."""


class Missing(StrEnum):
    """Why a resolver found no approved version."""

    REGISTRY = "registry"
    """The registry itself (package group, Vertex model, MLflow registered model) does not exist yet: a first
    deployment, whose own run creates it."""
    APPROVAL = "approval"
    """The registry exists and holds no approved version (none approved yet, or every approval was revoked)."""


Resolution = ApprovedVersion | Missing
"""A resolver's answer."""
