"""What pins a Helm chart: an exact SemVer version, or a chart that is a local directory or a versioned archive.

Shared by the ``helm-chart-pinned`` rule and the platform's pinned prerequisite table
(``mlops_infra.k8s.prerequisites.charts``), so the table is held to the rule it is checked by.
"""

from __future__ import annotations

import re

HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
"""The pulumi-kubernetes resource that installs a chart as a Helm release (the ``helm.sh/v3`` and ``v4``
``Chart`` are component resources: they render the chart into ordinary resources, which the other rules see)."""

EXACT_VERSION = re.compile(
    r"^v?(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$"
)
"""One SemVer release (optionally ``v``-prefixed, pre-release and build metadata allowed): not a range
(``^1.2``, ``~1.2``, ``>=1``, ``1.x``, ``1.2``), not ``latest``, not empty."""

_LOCAL = ("./", "../", "/", "file://")
_ARCHIVE = re.compile(r"^(https?|oci)://.*\.tgz$")


def is_exact_version(version: object) -> bool:
    """Whether a chart version names one release (``v1.19.1``, ``88.5.3``)."""
    return isinstance(version, str) and EXACT_VERSION.fullmatch(version) is not None


def pinned_by_source(chart: object) -> bool:
    """A chart read from a local directory or a ``.tgz`` archive URL: what it installs does not move with the repo."""
    return isinstance(chart, str) and (chart.startswith(_LOCAL) or _ARCHIVE.fullmatch(chart) is not None)
