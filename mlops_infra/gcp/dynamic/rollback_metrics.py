"""Metric rollback for Vertex rollouts: after a stage's bake time, read the endpoint's alert metrics.

The same thresholds as the endpoint's alert policies (error rate in percent of predictions, p95
latency in ms) are read from the Cloud Monitoring REST API over the bake window; a breach makes
the rollout stage fail, and the deployment provider restores the previous traffic split.
``fetch_series`` is the one network call (tests replace it).
"""

# ruff: noqa: PLC0415 - google.auth's HTTP transport loads only when a rollout reads metrics.

from __future__ import annotations

import datetime
from typing import Any

from mlops_infra.gcp.dynamic import clients

MONITORING_API = "https://monitoring.googleapis.com"
METRIC_PREFIX = "aiplatform.googleapis.com/prediction/online"
RESOURCE_TYPE = "aiplatform.googleapis.com/Endpoint"


def fetch_series(api: str, project: str, params: dict[str, str]) -> dict[str, Any]:
    """``projects.timeSeries.list`` (GET) with ``params``; the parsed JSON response."""
    from google.auth.transport.requests import AuthorizedSession

    session = AuthorizedSession(clients.credentials_for(api))  # type: ignore[no-untyped-call]
    response = session.get(f"{api}/v3/projects/{project}/timeSeries", params=params, timeout=60)
    response.raise_for_status()
    result: dict[str, Any] = response.json()
    return result


def _params(endpoint_id: str, metric: str, window_seconds: int, aligner: str, reducer: str) -> dict[str, str]:
    end = datetime.datetime.now(datetime.UTC)
    start = end - datetime.timedelta(seconds=window_seconds)
    return {
        "filter": (
            f'resource.type = "{RESOURCE_TYPE}" AND resource.labels.endpoint_id = "{endpoint_id}" '
            f'AND metric.type = "{METRIC_PREFIX}/{metric}"'
        ),
        "interval.startTime": start.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "interval.endTime": end.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "aggregation.alignmentPeriod": f"{window_seconds}s",
        "aggregation.perSeriesAligner": aligner,
        "aggregation.crossSeriesReducer": reducer,
    }


def _value(response: dict[str, Any]) -> float | None:
    """The latest point of the first series (None when the window has no data)."""
    for series in response.get("timeSeries") or []:
        for point in series.get("points") or []:
            value = point.get("value") or {}
            for kind in ("doubleValue", "int64Value"):
                if kind in value:
                    return float(value[kind])
    return None


def breaches(gate: dict[str, Any], project: str, endpoint: str, window_seconds: float) -> list[str]:
    """Why the endpoint breaches ``gate`` (``error_rate_percent``, ``p95_latency_ms``) over the window."""
    api = str(gate.get("monitoring_api") or MONITORING_API)
    endpoint_id = endpoint.rsplit("/", 1)[-1]
    window = max(60, int(window_seconds) // 60 * 60)

    def read(metric: str, aligner: str, reducer: str) -> float | None:
        return _value(fetch_series(api, project, _params(endpoint_id, metric, window, aligner, reducer)))

    reasons: list[str] = []
    errors = read("error_count", "ALIGN_RATE", "REDUCE_SUM")
    predictions = read("prediction_count", "ALIGN_RATE", "REDUCE_SUM")
    if errors is not None and predictions:
        percent = errors / predictions * 100
        if percent > float(gate["error_rate_percent"]):
            reasons.append(f"error rate {percent:.2f}% > {float(gate['error_rate_percent']):g}%")
    p95 = read("prediction_latencies", "ALIGN_PERCENTILE_95", "REDUCE_MAX")
    if p95 is not None and p95 > float(gate["p95_latency_ms"]):
        reasons.append(f"p95 latency {p95:.0f} ms > {float(gate['p95_latency_ms']):g} ms")
    return reasons
