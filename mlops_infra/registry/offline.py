"""Deterministic resolution under the offline engine: stack config names the approved versions.

Under pulumi mocks (``mlops-infra plan|check``, tests) no registry is reachable, so the stack
config key ``offlineApprovedVersions`` maps endpoint names to what the registry would answer:

- AWS: a version number of the platform's model package group, or a model package version ARN;
- GCP: the Vertex model version id that holds the approved alias;
- Kubernetes: the storage URI of the MLflow version that holds the approved alias.

An endpoint it does not name has no approved version. The key is read only under mocks: a real
``pulumi preview``/``up`` always asks the registry, so leaving it in a stack file is harmless.
"""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi.runtime import settings
from pulumi.runtime.mocks import MockMonitor

OFFLINE_KEY = "offlineApprovedVersions"


def is_offline() -> bool:
    """Whether the program runs under pulumi mocks (the offline engine or a unit test)."""
    return isinstance(settings.get_monitor(), MockMonitor)


def offline_version(endpoint: str) -> int | str | None:
    """What ``offlineApprovedVersions`` says the registry holds for ``endpoint`` (None: nothing approved)."""
    versions: Any = pulumi.Config().get_object(OFFLINE_KEY) or {}
    if not isinstance(versions, dict):
        raise ValueError(f"config {OFFLINE_KEY} must map endpoint names to approved versions, got {versions!r}")
    value = versions.get(endpoint)
    if value is None or isinstance(value, bool) or not isinstance(value, int | str):
        return None if value is None else _bad(endpoint, value)
    return value


def _bad(endpoint: str, value: object) -> int | str:
    raise ValueError(f"config {OFFLINE_KEY}.{endpoint} must be a version number or string, got {value!r}")
