"""The operations dashboard: widgets built from data, naming the real endpoint, variants and drift metrics."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlops_infra.aws.dashboard import (
    BILLING_REGION,
    DashboardArgs,
    OperationsDashboard,
    dashboard_body,
    drift_metric_name,
)
from mlops_infra.aws.model_monitor import DATA_METRICS_NAMESPACE
from mlops_infra.engine import run_program
from mlops_infra.testing import one, plan

STACKS = Path(__file__).resolve().parents[2] / "stacks"
ENDPOINT = {
    "endpoint_name": "churn-prod-scoring",
    "variants": ["champion", "challenger"],
    "p95_latency_ms": 300,
    "drift": {
        "schedule_name": "churn-prod-scoring-monitor-data-quality",
        "features": ["tenure_months", "monthly_charges"],
        "threshold": 0.2,
    },
}


def _widgets(body):
    return {w["properties"].get("title"): w for w in body["widgets"] if w["type"] == "metric"}


def _metrics(widget):
    return [m for m in widget["properties"]["metrics"] if isinstance(m[0], str)]


@pytest.fixture(scope="module")
def body():
    return dashboard_body(
        DashboardArgs.model_validate({"endpoints": [ENDPOINT], "monthly_limit_usd": 2000}), "eu-west-1"
    )


def test_invocations_and_errors_per_variant_of_the_real_endpoint(body):
    widgets = _widgets(body)
    invocations = _metrics(widgets["Invocations per variant"])
    assert [m[:6] for m in invocations] == [
        ["AWS/SageMaker", "Invocations", "EndpointName", "churn-prod-scoring", "VariantName", v]
        for v in ("champion", "challenger")
    ]
    errors = _metrics(widgets["Errors per variant: 4XX, 5XX, model errors"])
    assert {(m[1], m[5]) for m in errors} == {
        (metric, variant)
        for metric in ("Invocation4XXErrors", "Invocation5XXErrors", "InvocationModelErrors")
        for variant in ("champion", "challenger")
    }
    assert all(m[3] == "churn-prod-scoring" and m[-1]["stat"] == "Sum" for m in errors)
    assert widgets["Invocations per variant"]["properties"]["region"] == "eu-west-1"


def test_latency_is_p95_converted_from_microseconds_with_the_alarm_line(body):
    widget = next(w for title, w in _widgets(body).items() if title.startswith("p95 ModelLatency"))
    raw = _metrics(widget)
    assert [(m[1], m[5], m[-1]["stat"], m[-1]["visible"]) for m in raw] == [
        ("ModelLatency", "champion", "p95", False),
        ("ModelLatency", "challenger", "p95", False),
    ]
    expressions = [m[0] for m in widget["properties"]["metrics"] if isinstance(m[0], dict)]
    assert [e["expression"] for e in expressions] == [f"{m[-1]['id']} / 1000" for m in raw]
    assert "microseconds" in widget["properties"]["title"]
    assert widget["properties"]["annotations"]["horizontal"] == [{"label": "alarm", "value": 300}]


def test_drift_widget_plots_the_metrics_model_monitor_publishes(body):
    widget = _widgets(body)["Drift from the training baseline (Model Monitor)"]
    metrics = _metrics(widget)
    assert [m[:6] for m in metrics] == [
        [
            DATA_METRICS_NAMESPACE,
            f"feature_baseline_drift_{feature}",
            "Endpoint",
            "churn-prod-scoring",
            "MonitoringSchedule",
            "churn-prod-scoring-monitor-data-quality",
        ]
        for feature in ("tenure_months", "monthly_charges")
    ]
    assert drift_metric_name("tenure_months") == "feature_baseline_drift_tenure_months"
    assert widget["properties"]["annotations"]["horizontal"] == [{"label": "drift", "value": 0.2}]


def test_cost_is_the_accounts_estimated_charges_in_us_east_1(body):
    (widget,) = [w for title, w in _widgets(body).items() if title.startswith("Estimated charges")]
    assert "us-east-1" in widget["properties"]["title"] and "billing alerts" in widget["properties"]["title"]
    assert widget["properties"]["region"] == BILLING_REGION == "us-east-1"
    (metric,) = widget["properties"]["metrics"]
    assert metric[:4] == ["AWS/Billing", "EstimatedCharges", "Currency", "USD"]
    assert metric[-1]["region"] == "us-east-1"
    assert widget["properties"]["annotations"]["horizontal"] == [{"label": "budget", "value": 2000}]


def test_widgets_fit_the_24_unit_grid_without_overlap(body):
    cells = set()
    for widget in body["widgets"]:
        assert widget["x"] + widget["width"] <= 24
        area = {
            (x, y)
            for x in range(widget["x"], widget["x"] + widget["width"])
            for y in range(widget["y"], widget["y"] + widget["height"])
        }
        assert not cells & area
        cells |= area


def test_component_creates_one_named_dashboard_with_that_body():
    stack = plan(
        lambda: OperationsDashboard("operations", {"endpoints": [ENDPOINT], "region": "eu-west-1"}), environment="prod"
    )
    dashboard = one(stack, "aws:cloudwatch/dashboard:Dashboard")
    assert dashboard.inputs["dashboardName"] == "churn-prod-operations"
    assert dashboard.parent == one(stack, "mlops-infra:aws:OperationsDashboard").urn
    assert json.loads(dashboard.inputs["dashboardBody"]) == json.loads(
        json.dumps(
            dashboard_body(DashboardArgs.model_validate({"endpoints": [ENDPOINT], "region": "eu-west-1"}), "eu-west-1")
        )
    )


def test_variant_names_are_unique():
    with pytest.raises(ValueError, match="twice"):
        DashboardArgs.model_validate({"endpoints": [{**ENDPOINT, "variants": ["a", "a"]}]})


def test_the_platform_dashboard_names_its_endpoints_variants_and_drift_features():
    stack = run_program(STACKS / "platform", "aws-prod")
    endpoints = stack.by_type("aws:sagemaker/endpoint:Endpoint")
    body = json.loads(one(stack, "aws:cloudwatch/dashboard:Dashboard").inputs["dashboardBody"])
    metrics = [
        m for w in body["widgets"] if w["type"] == "metric" for m in w["properties"]["metrics"] if isinstance(m[0], str)
    ]
    named = {m[3] for m in metrics if m[2] in ("EndpointName", "Endpoint")}
    assert named == {e.inputs["name"] for e in endpoints}
    configs = stack.by_type("aws:sagemaker/endpointConfiguration:EndpointConfiguration")
    variants = {v["variantName"] for c in configs for v in c.inputs["productionVariants"]}
    assert {m[5] for m in metrics if m[2] == "EndpointName"} == variants
    schedules = {s.inputs["name"] for s in stack.by_type("aws:sagemaker/monitoringSchedule:MonitoringSchedule")}
    drift = [m for m in metrics if m[0] == DATA_METRICS_NAMESPACE]
    alarms = {
        (a.inputs["metricName"], a.inputs["dimensions"]["MonitoringSchedule"])
        for a in stack.by_type("aws:cloudwatch/metricAlarm:MetricAlarm")
        if a.inputs.get("namespace") == DATA_METRICS_NAMESPACE
    }
    assert drift and {(m[1], m[5]) for m in drift} == alarms
    assert {m[5] for m in drift} <= schedules
