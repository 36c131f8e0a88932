"""One shape for the platform's Cloud Monitoring alert policies: a severity, documented, to that severity's channels.

Every policy the GCP components create is ``combiner: OR``, carries ``severity`` both as the policy's own
severity and as a user label (the alert routes and dashboards select on it), and says in its documentation
what failed and where to look.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import pulumi
import pulumi_gcp as gcp

Severity = Literal["critical", "warning"]


def severity_alert_policy(
    name: str,
    *,
    display_name: pulumi.Input[str],
    severity: Severity,
    channels: Sequence[Any],
    labels: dict[str, str],
    content: str,
    conditions: list[gcp.monitoring.AlertPolicyConditionArgs],
    opts: pulumi.ResourceOptions,
    alert_strategy: gcp.monitoring.AlertPolicyAlertStrategyArgs | None = None,
) -> gcp.monitoring.AlertPolicy:
    """An alert policy ``name`` of ``severity`` to ``channels`` (channel names or their Outputs), documented
    with ``content`` (Markdown)."""
    return gcp.monitoring.AlertPolicy(
        name,
        display_name=display_name,
        combiner="OR",
        severity=severity.upper(),
        notification_channels=list(channels),
        user_labels={**labels, "severity": severity},
        documentation=gcp.monitoring.AlertPolicyDocumentationArgs(content=content, mime_type="text/markdown"),
        conditions=conditions,
        alert_strategy=alert_strategy,
        opts=opts,
    )
