"""Metric rollback for Vertex rollouts: after a stage's bake time, read the canary's own metrics.

Vertex AI's online prediction metrics (``aiplatform.googleapis.com/prediction/online/
prediction_count``, ``error_count`` and ``prediction_latencies`` on the
``aiplatform.googleapis.com/Endpoint`` resource) carry a ``deployed_model_id`` metric label. Each
query filters on the endpoint *and* on one deployed model, so a canary serving 10 % of traffic
is judged on its own requests: a canary failing 5 % of them is 5 %, not the 0.5 % the whole
endpoint would show. The thresholds are the endpoint's alert thresholds (error rate in percent
of predictions, p95 latency in ms), read from the Cloud Monitoring REST API
(``projects.timeSeries.list``) over the bake window.

Not enough data: below ``min_requests`` predictions (default :data:`DEFAULT_MIN_REQUESTS`) in
the window the stage cannot be judged. ``insufficient_data`` decides: ``"rollback"`` fails the
stage (the provider rolls traffic back), ``"promote"`` passes it with a warning. The default is
``"rollback"`` in protected environments (the deployment has a ``required_alias``) and
``"promote"`` elsewhere, where dev endpoints often see no traffic at all.
"""

# ruff: noqa: PLC0415 - google.auth's HTTP transport loads only when a rollout reads metrics.

from __future__ import annotations

import datetime
from typing import Any

import pulumi

from mlops_infra.gcp.dynamic import clients
from mlops_infra.gcp.dynamic.errors import VertexError

MONITORING_API = "https://monitoring.googleapis.com"
METRIC_PREFIX = "aiplatform.googleapis.com/prediction/online"
RESOURCE_TYPE = "aiplatform.googleapis.com/Endpoint"
DEFAULT_MIN_REQUESTS = 100
INSUFFICIENT_DATA_CHOICES = ("rollback", "promote")


def fetch_series(api: str, project: str, params: dict[str, str]) -> dict[str, Any]:
    """``projects.timeSeries.list`` (GET) with ``params``; the parsed JSON response."""
    from google.auth.transport.requests import AuthorizedSession

    clients.check_api_endpoint(api)
    session = AuthorizedSession(clients.credentials_for(api))  # type: ignore[no-untyped-call]
    try:
        response = session.get(f"{api.rstrip('/')}/v3/projects/{project}/timeSeries", params=params, timeout=60)
        response.raise_for_status()
    except Exception as exc:
        raise VertexError(f"reading Cloud Monitoring metrics of project {project} failed: {exc}") from exc
    result: dict[str, Any] = response.json()
    return result


def metric_filter(endpoint_id: str, metric: str, deployed_model_id: str | None) -> str:
    """The timeSeries filter of one Vertex prediction metric, for one deployed model when given."""
    text = (
        f'resource.type = "{RESOURCE_TYPE}" AND resource.labels.endpoint_id = "{endpoint_id}" '
        f'AND metric.type = "{METRIC_PREFIX}/{metric}"'
    )
    if deployed_model_id:
        text += f' AND metric.labels.deployed_model_id = "{deployed_model_id}"'
    return text


def _params(
    endpoint_id: str, deployed_model_id: str | None, metric: str, window_seconds: int, *, aligner: str, reducer: str
) -> dict[str, str]:
    end = datetime.datetime.now(datetime.UTC)
    start = end - datetime.timedelta(seconds=window_seconds)
    return {
        "filter": metric_filter(endpoint_id, metric, deployed_model_id),
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


def insufficient_data_policy(gate: dict[str, Any], protected: bool) -> str:
    """``rollback`` or ``promote`` for a stage with fewer than ``min_requests`` predictions."""
    choice = str(gate.get("insufficient_data") or ("rollback" if protected else "promote"))
    if choice not in INSUFFICIENT_DATA_CHOICES:
        raise ValueError(
            f"rollback_metrics.insufficient_data must be one of {INSUFFICIENT_DATA_CHOICES}, got {choice!r}"
        )
    return choice


def breaches(
    gate: dict[str, Any],
    project: str,
    endpoint: str,
    window_seconds: float,
    *,
    deployed_model_ids: list[str] | None = None,
    protected: bool = False,
) -> list[str]:
    """Why the deployed models (each on its own requests) breach ``gate`` over the window.

    ``gate``: ``error_rate_percent``, ``p95_latency_ms``, optional ``min_requests``,
    ``insufficient_data`` and ``monitoring_api``. Without ``deployed_model_ids`` the whole
    endpoint is judged.
    """
    api = str(gate.get("monitoring_api") or MONITORING_API)
    endpoint_id = endpoint.rsplit("/", 1)[-1]
    window = max(60, int(window_seconds) // 60 * 60)
    minimum = int(gate.get("min_requests", DEFAULT_MIN_REQUESTS))
    policy = insufficient_data_policy(gate, protected)
    reasons: list[str] = []
    targets: list[str | None] = list(deployed_model_ids or []) or [None]
    for deployed_id in targets:
        who = f"deployed model {deployed_id}" if deployed_id else "the endpoint"

        def read(metric: str, aligner: str, reducer: str, model: str | None = deployed_id) -> float | None:
            return _value(
                fetch_series(
                    api, project, _params(endpoint_id, model, metric, window, aligner=aligner, reducer=reducer)
                )
            )

        predictions = read("prediction_count", "ALIGN_DELTA", "REDUCE_SUM") or 0.0
        if predictions < max(minimum, 1):
            message = f"{who}: not enough data ({predictions:.0f} predictions < {minimum} in {window} s)"
            if policy == "rollback":
                reasons.append(message)
            else:
                pulumi.log.warn(f"{message}; promoted anyway (insufficient_data = promote)")
            continue
        errors = read("error_count", "ALIGN_DELTA", "REDUCE_SUM") or 0.0
        percent = errors / predictions * 100
        if percent > float(gate["error_rate_percent"]):
            reasons.append(f"{who}: error rate {percent:.2f}% > {float(gate['error_rate_percent']):g}%")
        p95 = read("prediction_latencies", "ALIGN_PERCENTILE_95", "REDUCE_MAX")
        if p95 is not None and p95 > float(gate["p95_latency_ms"]):
            reasons.append(f"{who}: p95 latency {p95:.0f} ms > {float(gate['p95_latency_ms']):g} ms")
    return reasons
