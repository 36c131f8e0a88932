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
    error_rate = gcp.monitoring.AlertPolicy(
        f"{logical_name}-error-rate",
        display_name=f"{display_name} error rate > {spec.error_rate:.0%}",
        combiner="OR",
        enabled=spec.enabled,
        severity="ERROR",
        notification_channels=spec.notification_channels,
        user_labels=labels,
        documentation=gcp.monitoring.AlertPolicyDocumentationArgs(
            content="Online prediction errors exceed the threshold; check the latest rollout and the serving logs.",
            mime_type="text/markdown",
        ),
        conditions=[
            gcp.monitoring.AlertPolicyConditionArgs(
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
            )
        ],
        opts=opts,
    )
    latency = gcp.monitoring.AlertPolicy(
        f"{logical_name}-latency",
        display_name=f"{display_name} p99 latency > {spec.latency_p99_ms:.0f} ms",
        combiner="OR",
        enabled=spec.enabled,
        severity="WARNING",
        notification_channels=spec.notification_channels,
        user_labels=labels,
        documentation=gcp.monitoring.AlertPolicyDocumentationArgs(
            content="p99 online prediction latency exceeds the threshold; check replica bounds and autoscaling.",
            mime_type="text/markdown",
        ),
        conditions=[
            gcp.monitoring.AlertPolicyConditionArgs(
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
            )
        ],
        opts=opts,
    )
    return [error_rate, latency]
