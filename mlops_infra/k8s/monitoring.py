"""Prometheus monitoring of an endpoint: ServiceMonitor, alert rules and a Grafana dashboard.

Alerts (PrometheusRule, prometheus-operator ``monitoring.coreos.com/v1``):
- p95 latency: ``histogram_quantile(0.95, ...)`` of the latency histogram above ``p95_latency_ms``;
- error rate: 5xx share of requests above ``error_rate_percent`` (0-100);
- drift: a configurable drift metric (e.g. from a drift detector fed by the logger) above a
  threshold; with ``drift_feature_thresholds`` each feature is compared with its own threshold
  (the ones the DriftDetector retrains on), one ``or`` clause per overridden feature keyed on the
  ``feature`` label plus one clause for every other feature. It carries ``retrain: "true"`` and
  the training trigger so Alertmanager can route it to the loop that starts
  ``TrainingPipeline``'s on-demand template.
Thresholds are given in the platform's units (percent, milliseconds); the PromQL compares in
Prometheus' base units (a ratio, seconds), converted here. The dashboard is a ConfigMap labelled
``grafana_dashboard: "1"``, which the Grafana sidecar of kube-prometheus-stack loads: latency,
errors, invocations (requests/s), drift and the namespace's monthly spend (OpenCost, the
expression :mod:`mlops_infra.k8s.spend_budget` alerts on).

``backend: seldon`` watches a Seldon Core v2 endpoint (:mod:`mlops_infra.k8s.seldon`, one Server per
model): the same rules on the agent's metrics, selected by ``server``: p95 of
``seldon_model_infer_api_seconds`` (seconds), errors as ``code=~"5.."`` of ``seldon_model_infer_total``.
Seldon's Services do not publish the agent's metrics port, so no ServiceMonitor is created: the
PodMonitor ``agent`` of Seldon's install (prometheus/monitors/agent-podmonitor.yaml) scrapes it, and
the NetworkPolicy admits Prometheus to port ``metrics`` (9006) of the Server's pods.
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

import pulumi
import pulumi_kubernetes as k8s
from pydantic import Field, field_validator, model_validator

from mlops_infra.component import PlatformComponent
from mlops_infra.conventions import naming
from mlops_infra.k8s import labels as lbl
from mlops_infra.k8s import network, objects
from mlops_infra.k8s.endpoint import ISVC_LABEL
from mlops_infra.k8s.seldon import METRICS_PORT, SERVER_LABEL
from mlops_infra.spec.base import Spec, StrInput, Switch
from mlops_infra.spec.types import PositivePercent

MONITORING_API = "monitoring.coreos.com/v1"
METRIC_NAME = r"^[a-zA-Z_:][a-zA-Z0-9_:]*$"
DURATION = r"^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$"
DASHBOARD_LABEL = "grafana_dashboard"
LABEL_NAME = r"^[a-zA-Z_][a-zA-Z0-9_]*$"
# What Seldon Core v2's agent exports (scheduler/pkg/metrics/agent.go @ v2.10.2): the histogram has no model
# label (server, server_replica, method, code), which is why each Seldon model runs on its own Server.
SELDON_METRICS = {
    "latency_histogram": "seldon_model_infer_api_seconds_bucket",
    "latency_unit_ms": 1000.0,
    "request_counter": "seldon_model_infer_total",
    "error_matcher": 'code=~"5.."',
    "metrics_port": "metrics",
}
# The drift detector's feature names (DriftDetectorArgs): safe inside a PromQL "..." string as is.
FEATURE_NAME = r"^[A-Za-z0-9_.:/-]{1,128}$"


class MonitoringArgs(Spec):
    """What to scrape and when to alert; error rate in percent, latency in milliseconds."""

    namespace: StrInput
    endpoint_name: str = Field(
        pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", description="InferenceService name (seldon: the Server's)."
    )
    backend: Literal["kserve", "seldon"] = Field(
        "kserve", description="kserve: Knative/KServe metrics; seldon: Seldon Core v2 agent metrics by server."
    )
    metrics_port: str = Field("http-usermetric", description="Named Service port exposing /metrics.")
    metrics_path: str = Field("/metrics", pattern=r"^/[A-Za-z0-9_./-]*$")
    scrape_interval: str = Field("30s", pattern=DURATION)
    latency_histogram: str = Field("revision_app_request_latencies_bucket", pattern=METRIC_NAME)
    latency_unit_ms: float = Field(1.0, gt=0, description="Milliseconds per histogram unit (Knative reports ms).")
    p95_latency_ms: float = Field(500, gt=0, le=600_000, description="95th-percentile latency ceiling, ms.")
    request_counter: str = Field("revision_app_request_count", pattern=METRIC_NAME)
    error_matcher: str = Field('response_code_class="5xx"', pattern=r'^[a-zA-Z_][a-zA-Z0-9_]*(=|!=|=~|!~)"[^"]*"$')
    error_rate_percent: PositivePercent = Field(5.0, description="Failed requests, percent of all (0-100].")
    drift_enabled: Switch = Field(True, description="Alert on drift (needs a detector exporting drift_metric).")
    drift_metric: str = Field("model_feature_drift_score", pattern=METRIC_NAME)
    drift_threshold: float = Field(0.2, gt=0)
    drift_feature_thresholds: dict[str, float] = Field(
        default_factory=dict,
        description="Per-feature override of drift_threshold (DriftSpec.threshold_for), as the DriftDetector gets.",
    )
    drift_model_label: str = Field("model", pattern=LABEL_NAME, description="Label naming the model.")
    drift_feature_label: str = Field("feature", pattern=LABEL_NAME, description="Label naming the feature.")
    alert_for: str = Field("10m", pattern=DURATION, description="How long a condition holds before firing.")
    alert_namespace_label: Switch = Field(
        False, description="Label each alert with its namespace, so a namespaced AlertmanagerConfig routes it."
    )
    retrain_trigger: str | None = Field(
        None,
        pattern=r"^(workflowtemplate|cronjob)/[a-z0-9-]+$",
        description="TrainingPipeline trigger, e.g. cronjob/x.",
    )
    prometheus_namespace: str = Field("monitoring", description="Namespace of Prometheus (allowed to scrape).")
    selector_labels: dict[str, str] = Field(
        default_factory=dict, description="Labels Prometheus selects rules/monitors by (e.g. release: kube-prometheus)."
    )

    @field_validator("drift_metric", "latency_histogram", "request_counter")
    @classmethod
    def _no_reserved(cls, value: str) -> str:
        if value.startswith("__"):
            raise ValueError("metric names starting with __ are reserved")
        return value

    @model_validator(mode="before")
    @classmethod
    def _seldon_metrics(cls, data: Any) -> Any:
        """Seldon's metric names and units, unless the caller names others."""
        if isinstance(data, dict) and data.get("backend") == "seldon":
            return {**SELDON_METRICS, **data}
        return data

    @field_validator("drift_feature_thresholds")
    @classmethod
    def _feature_thresholds(cls, values: dict[str, float]) -> dict[str, float]:
        for feature, value in values.items():
            if not re.fullmatch(FEATURE_NAME, feature):
                raise ValueError(f"feature name {feature!r} must match {FEATURE_NAME}")
            if not value > 0:
                raise ValueError(f"drift_feature_thresholds[{feature!r}] must be > 0, got {value}")
        return values


def _selector(namespace: str, endpoint: str, backend: str = "kserve") -> str:
    # Endpoint names are DNS labels: no regex metacharacters to escape.
    if backend == "seldon":
        return f'namespace="{namespace}", server="{endpoint}"'
    return f'namespace="{namespace}", service=~"{endpoint}-predictor.*"'


def drift_score_expr(a: MonitoringArgs, namespace: str, matchers: str = "", by_feature: bool = False) -> str:
    """PromQL: the endpoint's highest drift score (per feature with ``by_feature``), with extra ``matchers``."""
    sel = f'namespace="{namespace}", {a.drift_model_label}="{a.endpoint_name}"' + (f", {matchers}" if matchers else "")
    by = f" by ({a.drift_feature_label}) " if by_feature else ""
    return f"max{by}({a.drift_metric}{{{sel}}})"


def drift_expr(a: MonitoringArgs, namespace: str) -> str:
    """PromQL of the drift alert: every feature's score against its own threshold.

    One threshold: ``max(<metric>{...}) > t``. With per-feature thresholds, one clause per overridden
    feature (``feature="f"``, its threshold) ``or`` one for all the others (``feature!="f"`` for each,
    the default threshold), each ``max by (feature)`` so the clauses never collide and the alert
    names the feature that drifted. Features are sorted: the expression is stable across runs.
    """
    if not a.drift_feature_thresholds:
        return f"{drift_score_expr(a, namespace)} > {a.drift_threshold}"
    label = a.drift_feature_label
    own = sorted(a.drift_feature_thresholds.items())
    matchers = [(f'{label}="{f}"', t) for f, t in own]
    clauses = [f"{drift_score_expr(a, namespace, m, by_feature=True)} > {t}" for m, t in matchers]
    others = ", ".join(f'{label}!="{f}"' for f, _ in own)
    clauses.append(f"{drift_score_expr(a, namespace, others, by_feature=True)} > {a.drift_threshold}")
    # `or` binds looser than `>` in PromQL: each clause is compared before the union.
    return " or ".join(clauses)


def alert_rules(a: MonitoringArgs, namespace: str) -> list[dict[str, Any]]:
    """The three alerting rules (PromQL) for ``namespace``."""
    sel = _selector(namespace, a.endpoint_name, a.backend)
    p95 = (
        f"histogram_quantile(0.95, sum by (le) (rate({a.latency_histogram}{{{sel}}}[5m])))"
        f" * {a.latency_unit_ms / 1000} > {a.p95_latency_ms / 1000}"
    )
    errors = (
        f"sum(rate({a.request_counter}{{{sel}, {a.error_matcher}}}[5m]))"
        f" / sum(rate({a.request_counter}{{{sel}}}[5m])) > {a.error_rate_percent / 100}"
    )
    drift = drift_expr(a, namespace)
    common = {"endpoint": a.endpoint_name} | ({"namespace": namespace} if a.alert_namespace_label else {})
    drift_labels = {**common, "severity": "warning", "retrain": "true"}
    drift_annotations = {"summary": f"Feature drift of {a.endpoint_name} above {a.drift_threshold}"}
    if a.drift_feature_thresholds:
        own = ", ".join(f"{f} {t:g}" for f, t in sorted(a.drift_feature_thresholds.items()))
        drift_annotations["summary"] = (
            f"Feature {{{{ $labels.{a.drift_feature_label} }}}} of {a.endpoint_name} drifted above its threshold"
            f" ({own}; others {a.drift_threshold:g})"
        )
    if a.retrain_trigger:
        drift_annotations["retrain_trigger"] = a.retrain_trigger
    rules = [
        {
            "alert": "EndpointHighP95Latency",
            "expr": p95,
            "for": a.alert_for,
            "labels": {**common, "severity": "warning"},
            "annotations": {"summary": f"p95 latency of {a.endpoint_name} above {a.p95_latency_ms / 1000}s"},
        },
        {
            "alert": "EndpointHighErrorRate",
            "expr": errors,
            "for": a.alert_for,
            "labels": {**common, "severity": "critical"},
            "annotations": {"summary": f"5xx rate of {a.endpoint_name} above {a.error_rate_percent:g}%"},
        },
        {
            "alert": "EndpointFeatureDrift",
            "expr": drift,
            "for": a.alert_for,
            "labels": drift_labels,
            "annotations": drift_annotations,
        },
    ]
    return rules if a.drift_enabled else rules[:2]


def invocations_expr(a: MonitoringArgs, namespace: str) -> str:
    """PromQL: the endpoint's requests per second (every revision, canary included)."""
    return f"sum(rate({a.request_counter}{{{_selector(namespace, a.endpoint_name, a.backend)}}}[5m]))"


def dashboard(a: MonitoringArgs, namespace: str) -> str:
    """A Grafana dashboard (JSON): the signals the alerts watch, the request rate and the namespace's spend.

    Latency and errors plot the alert expressions without their threshold; drift plots each
    feature's score (``max by (feature)``, one series per feature, what the alert compares with that
    feature's threshold); invocations are requests per second; cost is the namespace's monthly
    spend at its current allocation, priced by OpenCost: the very expression SpendBudget alerts on.
    """
    # Imported here: spend_budget imports this module's DURATION.
    from mlops_infra.k8s.spend_budget import monthly_cost_expr  # noqa: PLC0415

    rules = {rule["alert"]: rule["expr"].rsplit(" > ", 1)[0] for rule in alert_rules(a, namespace)}
    signals: list[tuple[str, str, str, dict[str, str]]] = [
        ("p95 latency (s)", rules["EndpointHighP95Latency"], "s", {}),
        ("Error rate", rules["EndpointHighErrorRate"], "percentunit", {}),
        ("Invocations (requests/s)", invocations_expr(a, namespace), "reqps", {}),
    ]
    if "EndpointFeatureDrift" in rules:
        per_feature = drift_score_expr(a, namespace, by_feature=True)
        legend = {"legendFormat": f"{{{{{a.drift_feature_label}}}}}"}
        signals.append(("Feature drift", per_feature, "none", legend))
    signals.append(("Namespace spend (USD/month, OpenCost)", monthly_cost_expr(namespace), "currencyUSD", {}))
    panels = [
        {
            "title": title,
            "type": "timeseries",
            "gridPos": {"x": 8 * (i % 3), "y": 8 * (i // 3), "w": 8, "h": 8},
            "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
            "targets": [{"expr": expr, "refId": "A", **extra}],
        }
        for i, (title, expr, unit, extra) in enumerate(signals)
    ]
    return json.dumps(
        {
            "title": f"{a.endpoint_name} ({namespace})",
            "uid": f"mlops-{a.endpoint_name}"[:40],
            "schemaVersion": 39,
            "tags": ["mlops-infra", "kserve"],
            "time": {"from": "now-6h", "to": "now"},
            "panels": panels,
        },
        sort_keys=True,
    )


class Monitoring(PlatformComponent[MonitoringArgs]):
    """ServiceMonitor + PrometheusRule (latency, errors, drift) + Grafana dashboard for an endpoint."""

    TYPE_TOKEN = "mlops-infra:k8s:Monitoring"
    ARGS = MonitoringArgs

    def __init__(
        self, name: str, args: MonitoringArgs | dict[str, Any] | None = None, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, args, opts)
        a = self.args
        ns = a.namespace
        base = self.platform.name(name, naming.K8S_LABEL_NAME)
        labels = {
            **lbl.standard_labels("monitoring", base, "monitoring", self.platform.settings.project),
            **a.selector_labels,
        }
        seldon = a.backend == "seldon"
        pods = {"matchLabels": {SERVER_LABEL if seldon else ISVC_LABEL: a.endpoint_name}}
        self.service_monitor: k8s.apiextensions.CustomResource | None = None
        if not seldon:  # Seldon's agent PodMonitor scrapes its servers (see the module docstring)
            self.service_monitor = k8s.apiextensions.CustomResource(
                self.child_name("service-monitor"),
                api_version=MONITORING_API,
                kind="ServiceMonitor",
                metadata=objects.metadata(base, ns, labels),
                spec={
                    "selector": {"matchLabels": {ISVC_LABEL: a.endpoint_name}},
                    "namespaceSelector": {"matchNames": [ns]},
                    "endpoints": [
                        {
                            "port": a.metrics_port,
                            "path": a.metrics_path,
                            "interval": a.scrape_interval,
                            "scheme": "http",
                        }
                    ],
                },
                opts=self.child_opts(),
            )
        namespace_output: pulumi.Output[str] = pulumi.Output.from_input(ns).apply(str)
        self.rule = k8s.apiextensions.CustomResource(
            self.child_name("rules"),
            api_version=MONITORING_API,
            kind="PrometheusRule",
            metadata=objects.metadata(base, ns, labels),
            spec={
                "groups": [
                    {
                        "name": f"{a.endpoint_name}.rules",
                        "interval": "1m",
                        "rules": namespace_output.apply(lambda n: alert_rules(a, n)),
                    }
                ]
            },
            opts=self.child_opts(),
        )
        self.dashboard = k8s.core.v1.ConfigMap(
            self.child_name("dashboard"),
            metadata=objects.metadata(f"{base}-dashboard", ns, {**labels, DASHBOARD_LABEL: "1"}),
            data={f"{a.endpoint_name}.json": namespace_output.apply(lambda n: dashboard(a, n))},
            opts=self.child_opts(),
        )
        self.scrape_policy = network.policy(
            self,
            "allow-scrape",
            f"{base}-scrape-in",
            ns,
            labels,
            pods=pods,
            ingress=[
                {
                    "from": network.namespaces(a.prometheus_namespace),
                    "ports": network.ports(METRICS_PORT if seldon else a.metrics_port),
                }
            ],
        )
        self.register_outputs({"rule": base, "dashboard": f"{base}-dashboard"})
