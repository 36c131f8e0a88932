"""Cloud Monitoring alert policies on a Vertex AI endpoint's error rate and latency."""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp
from pydantic import Field

from mlops_infra.config.base import ComponentArgs

METRIC_PREFIX = "aiplatform.googleapis.com/prediction/online"
RESOURCE_TYPE = "aiplatform.googleapis.com/Endpoint"


class AlertSpec(ComponentArgs):
    """Thresholds of the endpoint's alert policies."""

    enabled: bool = True
    error_rate: float = Field(0.05, gt=0, le=1, description="Errors / predictions above which to alert (0-1).")
    latency_p99_ms: float = Field(1000, gt=0, description="99th percentile prediction latency, milliseconds.")
    duration_seconds: int = Field(300, ge=0, le=86400, description="How long a breach lasts before alerting.")
    notification_channels: list[str] = Field(default_factory=list, description="Monitoring channel ids.")


def _filter(endpoint_id: pulumi.Input[str], metric: str) -> pulumi.Output[str]:
    return pulumi.Output.concat(
        f'resource.type = "{RESOURCE_TYPE}" AND resource.labels.endpoint_id = "',
        endpoint_id,
        f'" AND metric.type = "{METRIC_PREFIX}/{metric}"',
    )


def _alert_policy(
    resource_name: str,
    *,
    display_name: str,
    severity: str,
    advice: str,
    condition: gcp.monitoring.AlertPolicyConditionArgs,
    spec: AlertSpec,
    labels: dict[str, str],
    opts: pulumi.ResourceOptions,
) -> gcp.monitoring.AlertPolicy:
    """One single-condition policy with the settings every endpoint alert shares."""
    return gcp.monitoring.AlertPolicy(
        resource_name,
        display_name=display_name,
        combiner="OR",
        enabled=spec.enabled,
        severity=severity,
        notification_channels=spec.notification_channels,
        user_labels=labels,
        documentation=gcp.monitoring.AlertPolicyDocumentationArgs(content=advice, mime_type="text/markdown"),
        conditions=[condition],
        opts=opts,
    )


def endpoint_alert_policies(
    logical_name: str,
    *,
    display_name: str,
    endpoint_id: pulumi.Input[str],
    spec: AlertSpec,
    labels: dict[str, str],
    opts: pulumi.ResourceOptions,
) -> list[gcp.monitoring.AlertPolicy]:
    """An error-rate policy (errors / predictions) and a p99 latency policy for one endpoint."""
    duration = f"{spec.duration_seconds}s"
    window = "60s"
    error_rate = _alert_policy(
        f"{logical_name}-error-rate",
        display_name=f"{display_name} error rate > {spec.error_rate:.0%}",
        severity="ERROR",
        advice="Online prediction errors exceed the threshold; check the latest rollout and the serving logs.",
        condition=gcp.monitoring.AlertPolicyConditionArgs(
            display_name="prediction error ratio",
            condition_threshold=gcp.monitoring.AlertPolicyConditionConditionThresholdArgs(
                filter=_filter(endpoint_id, "error_count"),
                denominator_filter=_filter(endpoint_id, "prediction_count"),
                comparison="COMPARISON_GT",
                threshold_value=spec.error_rate,
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
        display_name=f"{display_name} p99 latency > {spec.latency_p99_ms:.0f} ms",
        severity="WARNING",
        advice="p99 online prediction latency exceeds the threshold; check replica bounds and autoscaling.",
        condition=gcp.monitoring.AlertPolicyConditionArgs(
            display_name="prediction latency p99",
            condition_threshold=gcp.monitoring.AlertPolicyConditionConditionThresholdArgs(
                filter=_filter(endpoint_id, "prediction_latencies"),
                comparison="COMPARISON_GT",
                threshold_value=spec.latency_p99_ms,
                duration=duration,
                aggregations=[
                    gcp.monitoring.AlertPolicyConditionConditionThresholdAggregationArgs(
                        alignment_period=window,
                        per_series_aligner="ALIGN_PERCENTILE_99",
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
