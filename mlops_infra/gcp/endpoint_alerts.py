"""Cloud Monitoring alert policies on a Vertex AI endpoint's error rate (critical) and latency (warning).

Each policy notifies the channels of its severity (:meth:`EndpointAlerts.channels`) and carries the
user label ``severity`` (``critical`` / ``warning``, the platform's one vocabulary).
"""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp
from pydantic import Field

from mlops_infra.outputs import concat
from mlops_infra.spec.alerts import Alerts, Severity
from mlops_infra.spec.base import StrInput, Switch

METRIC_PREFIX = "aiplatform.googleapis.com/prediction/online"
RESOURCE_TYPE = "aiplatform.googleapis.com/Endpoint"
MONITORING_SEVERITY: dict[Severity, str] = {"critical": "CRITICAL", "warning": "WARNING"}


class EndpointAlerts(Alerts):
    """The shared thresholds (error rate in percent, p95 latency in ms) plus where GCP sends the alerts.

    Cloud Monitoring has no M-of-N evaluation: a condition must hold for
    ``period_seconds * datapoints_to_alarm`` seconds, aligned over ``period_seconds`` windows.
    """

    enabled: Switch = True
    notification_channels: list[StrInput] = Field(
        default_factory=list,
        description="Monitoring channel names (projects/P/notificationChannels/ID) notified of both severities.",
    )
    severity_channels: dict[Severity, list[StrInput]] = Field(
        default_factory=dict,
        description="Per severity (critical: error rate; warning: latency), the channels instead of "
        "notification_channels.",
    )

    def channels(self, severity: Severity) -> list[StrInput]:
        """The channels an alert of ``severity`` notifies."""
        return self.severity_channels.get(severity, self.notification_channels)

    @property
    def duration_seconds(self) -> int:
        """How long a breach lasts before the policy fires, seconds."""
        return self.period_seconds * self.datapoints_to_alarm


def _filter(endpoint_id: pulumi.Input[str], metric: str) -> pulumi.Output[str]:
    return concat(
        f'resource.type = "{RESOURCE_TYPE}" AND resource.labels.endpoint_id = "',
        endpoint_id,
        f'" AND metric.type = "{METRIC_PREFIX}/{metric}"',
    )


def _alert_policy(
    resource_name: str,
    *,
    display_name: str,
    severity: Severity,
    advice: str,
    condition: gcp.monitoring.AlertPolicyConditionArgs,
    spec: EndpointAlerts,
    labels: dict[str, str],
    opts: pulumi.ResourceOptions,
) -> gcp.monitoring.AlertPolicy:
    """One single-condition policy with the settings every endpoint alert shares."""
    return gcp.monitoring.AlertPolicy(
        resource_name,
        display_name=display_name,
        combiner="OR",
        enabled=spec.enabled,
        # Cloud Monitoring's own severity; the platform's is the user label.
        severity=MONITORING_SEVERITY[severity],
        notification_channels=spec.channels(severity),
        user_labels={**labels, "severity": severity},
        documentation=gcp.monitoring.AlertPolicyDocumentationArgs(content=advice, mime_type="text/markdown"),
        conditions=[condition],
        opts=opts,
    )


def endpoint_alert_policies(
    logical_name: str,
    *,
    display_name: str,
    endpoint_id: pulumi.Input[str],
    spec: EndpointAlerts,
    labels: dict[str, str],
    opts: pulumi.ResourceOptions,
) -> list[gcp.monitoring.AlertPolicy]:
    """An error-rate policy (errors / predictions) and a p95 latency policy for one endpoint."""
    duration = f"{spec.duration_seconds}s"
    window = f"{spec.period_seconds}s"
    error_rate = _alert_policy(
        f"{logical_name}-error-rate",
        display_name=f"{display_name} error rate > {spec.error_rate_percent:g}%",
        severity="critical",
        advice="Online prediction errors exceed the threshold; check the latest rollout and the serving logs.",
        condition=gcp.monitoring.AlertPolicyConditionArgs(
            display_name="prediction error ratio",
            condition_threshold=gcp.monitoring.AlertPolicyConditionConditionThresholdArgs(
                filter=_filter(endpoint_id, "error_count"),
                denominator_filter=_filter(endpoint_id, "prediction_count"),
                comparison="COMPARISON_GT",
                # Cloud Monitoring compares the ratio as a 0-1 fraction.
                threshold_value=spec.error_rate_percent / 100,
                duration=duration,
                aggregations=[
                    gcp.monitoring.AlertPolicyConditionConditionThresholdAggregationArgs(
                        alignment_period=window, per_series_aligner="ALIGN_RATE", cross_series_reducer="REDUCE_SUM"
                    )
                ],
                denominator_aggregations=[
                    gcp.monitoring.AlertPolicyConditionConditionThresholdDenominatorAggregationArgs(
                        alignment_period=window, per_series_aligner="ALIGN_RATE", cross_series_reducer="REDUCE_SUM"
                    )
                ],
            ),
        ),
        spec=spec,
        labels=labels,
        opts=opts,
    )
    latency = _alert_policy(
        f"{logical_name}-latency",
        display_name=f"{display_name} p95 latency > {spec.p95_latency_ms:g} ms",
        severity="warning",
        advice="p95 online prediction latency exceeds the threshold; check replica bounds and autoscaling.",
        condition=gcp.monitoring.AlertPolicyConditionArgs(
            display_name="prediction latency p95",
            condition_threshold=gcp.monitoring.AlertPolicyConditionConditionThresholdArgs(
                filter=_filter(endpoint_id, "prediction_latencies"),
                comparison="COMPARISON_GT",
                threshold_value=spec.p95_latency_ms,
                duration=duration,
                aggregations=[
                    gcp.monitoring.AlertPolicyConditionConditionThresholdAggregationArgs(
                        alignment_period=window,
                        per_series_aligner="ALIGN_PERCENTILE_95",
                        cross_series_reducer="REDUCE_MAX",
                    )
                ],
            ),
        ),
        spec=spec,
        labels=labels,
        opts=opts,
    )
    return [error_rate, latency]
