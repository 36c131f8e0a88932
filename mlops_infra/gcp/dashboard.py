"""One Cloud Monitoring dashboard per platform: what its endpoints serve, how well, drift, and the budget.

Per endpoint (metrics of ``aiplatform.googleapis.com/Endpoint``, filtered on ``endpoint_id``):
prediction count, error count, error rate (errors / predictions, with the alert threshold drawn) and
p95 latency (with the alert threshold drawn). Then drift: the log-based metric the drift check writes
(:attr:`mlops_infra.gcp.drift.DriftRetraining.metric_type`, one point per detection).

Cost: Cloud Billing publishes no Cloud Monitoring metric, so a dashboard cannot chart spend. The cost
tile is text: the monthly budget, its thresholds and who is notified; actual spend is in the Billing
console's budget page (or a BigQuery billing export, which this platform does not create).
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_gcp as gcp
from pydantic import Field

from mlops_infra.gcp.endpoint_alerts import METRIC_PREFIX, RESOURCE_TYPE
from mlops_infra.spec.base import Spec

COLUMNS = 48
TILE_WIDTH = 12
TILE_HEIGHT = 16


class DashboardEndpoint(Spec):
    """An endpoint charted: its name (titles) and numeric Vertex endpoint id (metric filter)."""

    name: str = Field(min_length=1, max_length=100)
    endpoint_id: str = Field(pattern=r"^[1-9][0-9]{0,18}$")
    error_rate_percent: float | None = Field(None, gt=0, le=100, description="Alert threshold drawn on the chart.")
    p95_latency_ms: float | None = Field(None, gt=0, description="Alert threshold drawn on the chart.")


class DashboardBudget(Spec):
    """What the cost tile says about the budget."""

    monthly_limit: float = Field(gt=0)
    currency: str = Field("USD", pattern=r"^[A-Z]{3}$")
    alert_at_percent: list[float] = Field(default_factory=list)
    notified: str = Field("", max_length=500, description="Who the budget notifies, in words.")


class DashboardArgs(Spec):
    """The dashboard's content."""

    title: str = Field(min_length=1, max_length=200)
    endpoints: list[DashboardEndpoint] = Field(default_factory=list, max_length=50)
    drift_metric_type: str | None = Field(
        None, pattern=r"^logging\.googleapis\.com/user/[A-Za-z0-9_.-]+$", description="The drift check's log metric."
    )
    budget: DashboardBudget | None = None


def _filter(endpoint_id: str, metric: str) -> str:
    return (
        f'resource.type="{RESOURCE_TYPE}" AND resource.labels.endpoint_id="{endpoint_id}" '
        f'AND metric.type="{METRIC_PREFIX}/{metric}"'
    )


def _rate(endpoint_id: str, metric: str) -> dict[str, Any]:
    return {
        "filter": _filter(endpoint_id, metric),
        "aggregation": {"alignmentPeriod": "60s", "perSeriesAligner": "ALIGN_RATE", "crossSeriesReducer": "REDUCE_SUM"},
    }


def _chart(title: str, query: dict[str, Any], y_label: str, threshold: float | None = None) -> dict[str, Any]:
    chart: dict[str, Any] = {
        "dataSets": [{"timeSeriesQuery": query, "plotType": "LINE"}],
        "yAxis": {"label": y_label, "scale": "LINEAR"},
    }
    if threshold is not None:
        chart["thresholds"] = [{"value": threshold, "label": "alert"}]
    return {"title": title, "xyChart": chart}


def _endpoint_widgets(endpoint: DashboardEndpoint) -> list[dict[str, Any]]:
    eid = endpoint.endpoint_id
    return [
        _chart(f"{endpoint.name}: predictions/s", {"timeSeriesFilter": _rate(eid, "prediction_count")}, "1/s"),
        _chart(f"{endpoint.name}: errors/s", {"timeSeriesFilter": _rate(eid, "error_count")}, "1/s"),
        _chart(
            f"{endpoint.name}: error rate",
            {
                "timeSeriesFilterRatio": {
                    "numerator": _rate(eid, "error_count"),
                    "denominator": _rate(eid, "prediction_count"),
                }
            },
            "fraction",
            endpoint.error_rate_percent / 100 if endpoint.error_rate_percent is not None else None,
        ),
        _chart(
            f"{endpoint.name}: p95 latency",
            {
                "timeSeriesFilter": {
                    "filter": _filter(eid, "prediction_latencies"),
                    "aggregation": {
                        "alignmentPeriod": "60s",
                        "perSeriesAligner": "ALIGN_PERCENTILE_95",
                        "crossSeriesReducer": "REDUCE_MAX",
                    },
                }
            },
            "ms",
            endpoint.p95_latency_ms,
        ),
    ]


def _cost_text(budget: DashboardBudget | None) -> str:
    honest = (
        "Cloud Billing publishes no Cloud Monitoring metric, so spend is not charted here: "
        "see the budget in the Billing console (Budgets & alerts) or a BigQuery billing export."
    )
    if budget is None:
        return f"**Cost**\n\nNo budget is declared. {honest}"
    thresholds = ", ".join(f"{p:g} %" for p in budget.alert_at_percent) or "none"
    notified = f" Notifies: {budget.notified}." if budget.notified else ""
    return (
        f"**Cost**\n\nMonthly budget {budget.monthly_limit:g} {budget.currency}; alerts at {thresholds} "
        f"of actual and forecast spend.{notified}\n\n{honest}"
    )


def dashboard_json(args: DashboardArgs) -> dict[str, Any]:
    """The dashboard (Cloud Monitoring v1 ``Dashboard``, mosaic layout) as a dict."""
    widgets: list[dict[str, Any]] = []
    for endpoint in args.endpoints:
        widgets.extend(_endpoint_widgets(endpoint))
    if args.drift_metric_type is not None:
        widgets.append(
            _chart(
                "Drift detections (features beyond their threshold)",
                {
                    "timeSeriesFilter": {
                        "filter": f'metric.type="{args.drift_metric_type}" '
                        'AND resource.type="workflows.googleapis.com/Workflow"',
                        "aggregation": {
                            "alignmentPeriod": "3600s",
                            "perSeriesAligner": "ALIGN_SUM",
                            "crossSeriesReducer": "REDUCE_SUM",
                        },
                    }
                },
                "detections/h",
            )
        )
    widgets.append({"title": "Cost", "text": {"content": _cost_text(args.budget), "format": "MARKDOWN"}})
    per_row = COLUMNS // TILE_WIDTH
    tiles = [
        {
            "xPos": (index % per_row) * TILE_WIDTH,
            "yPos": (index // per_row) * TILE_HEIGHT,
            "width": TILE_WIDTH,
            "height": TILE_HEIGHT,
            "widget": widget,
        }
        for index, widget in enumerate(widgets)
    ]
    return {"displayName": args.title, "mosaicLayout": {"columns": COLUMNS, "tiles": tiles}}


def operations_dashboard(
    name: str, args: DashboardArgs | dict[str, Any], opts: pulumi.ResourceOptions
) -> gcp.monitoring.Dashboard:
    """The ``gcp.monitoring.Dashboard`` of :func:`dashboard_json` (args validated before it is registered)."""
    checked = args if isinstance(args, DashboardArgs) else DashboardArgs.model_validate(args)
    return gcp.monitoring.Dashboard(name, dashboard_json=json.dumps(dashboard_json(checked), sort_keys=True), opts=opts)
