"""The operations dashboard of an AWS platform: one CloudWatch dashboard with what on-call looks at first.

Per endpoint and variant (``AWS/SageMaker``, dimensions ``EndpointName`` and ``VariantName``):
invocations, 4XX/5XX and model errors, and p95 ``ModelLatency``. SageMaker reports ModelLatency in
**microseconds**: the widget plots ``p95 / 1000`` as milliseconds, with the latency alarm's
threshold as a line. Per monitored endpoint, the Model Monitor drift metrics
``feature_baseline_drift_<feature>`` (namespace ``aws/sagemaker/Endpoints/data-metrics``,
dimensions ``Endpoint`` and ``MonitoringSchedule``) with the drift threshold. And the account's
estimated charges (``AWS/Billing`` ``EstimatedCharges``, ``Currency=USD``): that metric exists only
in us-east-1, only once *Receive Billing Alerts* is enabled in the billing console, covers the whole
account (not only this platform) and is updated a few times a day.

The body is built from data (:func:`dashboard_body`), so tests read the widgets the dashboard shows.
"""

from __future__ import annotations

from typing import Any, Final

import pulumi
import pulumi_aws as aws
from pydantic import Field, field_validator

from mlops_infra.aws.account import region_name
from mlops_infra.aws.endpoint_alarms import MICROSECONDS_PER_MILLISECOND
from mlops_infra.aws.endpoint_alarms import NAMESPACE as SAGEMAKER_NAMESPACE
from mlops_infra.aws.model_monitor import DATA_METRICS_NAMESPACE
from mlops_infra.component import PlatformComponent
from mlops_infra.conventions.naming import NameRule
from mlops_infra.outputs import concat, json_text
from mlops_infra.spec.base import Spec, StrInput

# CloudWatch dashboard names: up to 255 letters, digits, '-' and '_'.
DASHBOARD_NAME: Final = NameRule(255, r"A-Za-z0-9_-")
BILLING_NAMESPACE: Final = "AWS/Billing"
BILLING_REGION: Final = "us-east-1"  # EstimatedCharges is published in us-east-1 only
BILLING_PERIOD_SECONDS: Final = 21600  # billing data arrives a few times a day
DRIFT_PERIOD_SECONDS: Final = 3600  # Model Monitor runs hourly at most
WIDTH: Final = 24  # the dashboard grid is 24 units wide
HEIGHT: Final = 6
DRIFT_METRIC_PREFIX: Final = "feature_baseline_drift_"


def drift_metric_name(feature: str) -> str:
    """The CloudWatch metric Model Monitor publishes for ``feature``'s distance from its baseline."""
    return f"{DRIFT_METRIC_PREFIX}{feature}"


class DashboardDrift(Spec):
    """The drift metrics of one endpoint's Model Monitor (``ModelMonitor(...).schedule_name``)."""

    schedule_name: StrInput = Field(description="The monitoring schedule (metric dimension MonitoringSchedule).")
    features: list[str] = Field(min_length=1, max_length=50, description="Features with a drift metric.")
    threshold: float | None = Field(None, gt=0, le=1, description="Drawn as a line: the drift alarm's threshold.")


class DashboardEndpoint(Spec):
    """One endpoint's widgets."""

    endpoint_name: StrInput = Field(description="SageMaker endpoint name (Endpoint(...).endpoint_name).")
    variants: list[str] = Field(min_length=1, max_length=10, description="Production variant names.")
    p95_latency_ms: float | None = Field(None, gt=0, description="Drawn as a line: the latency alarm's threshold.")
    drift: DashboardDrift | None = Field(None, description="The endpoint's drift monitor, if any.")

    @field_validator("variants")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError(f"variants lists a name twice: {value}")
        return value


class DashboardArgs(Spec):
    """What the operations dashboard shows."""

    endpoints: list[DashboardEndpoint] = Field(default_factory=list, max_length=20)
    cost: bool = Field(True, description="Show the account's estimated charges (needs billing alerts enabled).")
    monthly_limit_usd: float | None = Field(None, gt=0, description="Drawn on the cost widget: the budget.")
    region: str | None = Field(None, description="Region of the SageMaker metrics; default: the provider's.")


def _metric_widget(title: str, region: StrInput, metrics: list[list[Any]], **properties: Any) -> dict[str, Any]:
    return {
        "type": "metric",
        "width": WIDTH // 2,
        "height": HEIGHT,
        "properties": {"title": title, "region": region, "view": "timeSeries", "metrics": metrics, **properties},
    }


def _threshold(label: str, value: float) -> dict[str, Any]:
    return {"horizontal": [{"label": label, "value": value}]}


def endpoint_widgets(endpoint: DashboardEndpoint, region: StrInput, period: int = 60) -> list[dict[str, Any]]:
    """Invocations, errors and p95 latency per variant; drift per feature when the endpoint is monitored."""
    name = endpoint.endpoint_name

    def dims(variant: str) -> list[StrInput]:
        return ["EndpointName", name, "VariantName", variant]

    widgets = [
        _metric_widget(
            "Invocations per variant",
            region,
            [[SAGEMAKER_NAMESPACE, "Invocations", *dims(v), {"stat": "Sum", "label": v}] for v in endpoint.variants],
            period=period,
        ),
        _metric_widget(
            "Errors per variant: 4XX, 5XX, model errors",
            region,
            [
                [SAGEMAKER_NAMESPACE, metric, *dims(v), {"stat": "Sum", "label": f"{v} {label}"}]
                for v in endpoint.variants
                for metric, label in (
                    ("Invocation4XXErrors", "4XX"),
                    ("Invocation5XXErrors", "5XX"),
                    ("InvocationModelErrors", "model errors"),
                )
            ],
            period=period,
        ),
    ]
    # ModelLatency is in microseconds: plot p95 / 1000 as milliseconds, hide the raw series.
    latency: list[list[Any]] = []
    for index, variant in enumerate(endpoint.variants):
        raw = f"latency{index}"
        latency.append(
            [SAGEMAKER_NAMESPACE, "ModelLatency", *dims(variant), {"stat": "p95", "id": raw, "visible": False}]
        )
        to_ms = f"{raw} / {MICROSECONDS_PER_MILLISECOND}"
        latency.append([{"expression": to_ms, "label": f"{variant} p95 (ms)", "id": f"ms{index}"}])
    widgets.append(
        _metric_widget(
            "p95 ModelLatency (ms; SageMaker reports microseconds)",
            region,
            latency,
            period=period,
            yAxis={"left": {"label": "ms", "showUnits": False}},
            **({"annotations": _threshold("alarm", endpoint.p95_latency_ms)} if endpoint.p95_latency_ms else {}),
        )
    )
    if endpoint.drift is not None:
        drift = endpoint.drift
        widgets.append(
            _metric_widget(
                "Drift from the training baseline (Model Monitor)",
                region,
                [
                    [
                        DATA_METRICS_NAMESPACE,
                        drift_metric_name(feature),
                        "Endpoint",
                        name,
                        "MonitoringSchedule",
                        drift.schedule_name,
                        {"stat": "Maximum", "label": feature},
                    ]
                    for feature in drift.features
                ],
                period=DRIFT_PERIOD_SECONDS,
                **({"annotations": _threshold("drift", drift.threshold)} if drift.threshold else {}),
            )
        )
    return widgets


def cost_widget(monthly_limit_usd: float | None = None) -> dict[str, Any]:
    """The account's estimated charges this month; in us-east-1 only, after billing alerts are enabled."""
    return _metric_widget(
        "Estimated charges, whole account (USD; us-east-1 only, needs billing alerts enabled)",
        BILLING_REGION,
        [[BILLING_NAMESPACE, "EstimatedCharges", "Currency", "USD", {"stat": "Maximum", "region": BILLING_REGION}]],
        period=BILLING_PERIOD_SECONDS,
        **({"annotations": _threshold("budget", monthly_limit_usd)} if monthly_limit_usd else {}),
    )


def dashboard_body(args: DashboardArgs, region: StrInput) -> dict[str, Any]:
    """The dashboard's widgets, laid out two per row: a header, each endpoint's widgets, then cost."""
    header = {
        "type": "text",
        "width": WIDTH,
        "height": 2,
        "properties": {
            "markdown": "## Operations\nLatency in ms (SageMaker's ModelLatency is in microseconds); lines are alarm "
            "thresholds. Cost is the whole account's estimated charges (us-east-1, billing alerts enabled)."
        },
    }
    widgets: list[dict[str, Any]] = [header]
    for endpoint in args.endpoints:
        name = endpoint.endpoint_name
        title = f"### Endpoint {name}" if isinstance(name, str) else concat("### Endpoint ", name)
        widgets.append({"type": "text", "width": WIDTH, "height": 1, "properties": {"markdown": title}})
        widgets.extend(endpoint_widgets(endpoint, region))
    if args.cost:
        widgets.append(cost_widget(args.monthly_limit_usd))
    x = y = row_height = 0
    for widget in widgets:
        if x + widget["width"] > WIDTH:
            x, y, row_height = 0, y + row_height, 0
        widget["x"], widget["y"] = x, y
        x += widget["width"]
        row_height = max(row_height, widget["height"])
    return {"widgets": widgets}


class OperationsDashboard(PlatformComponent[DashboardArgs]):
    """A CloudWatch dashboard ``{project}-{env}-{name}`` of the endpoints, their drift and the account's cost."""

    TYPE_TOKEN = "mlops-infra:aws:OperationsDashboard"
    ARGS = DashboardArgs

    def __init__(
        self, name: str, args: DashboardArgs | dict[str, Any] | None = None, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, args, opts)
        region: StrInput = self.args.region or region_name(pulumi.InvokeOutputOptions(parent=self))
        body = dashboard_body(self.args, region)
        self.dashboard = aws.cloudwatch.Dashboard(
            self.child_name("dashboard"),
            dashboard_name=self.platform.name(name, DASHBOARD_NAME),
            dashboard_body=json_text(body),
            opts=self.child_opts(),
        )
        self.dashboard_name: pulumi.Output[str] = self.dashboard.dashboard_name
        self.dashboard_arn: pulumi.Output[str] = self.dashboard.dashboard_arn
        self.register_outputs({"dashboardName": self.dashboard_name, "dashboardArn": self.dashboard_arn})
