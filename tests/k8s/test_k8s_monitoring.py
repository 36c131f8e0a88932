"""Monitoring: ServiceMonitor, PrometheusRule (p95 latency, error rate, drift) and Grafana dashboard."""

import copy
import json
from pathlib import Path

import pydantic
import pytest
import yaml

from mlops_infra.engine import ProgramError
from mlops_infra.k8s import Monitoring, MonitoringArgs
from mlops_infra.k8s.monitoring import drift_expr
from mlops_infra.k8s.spend_budget import monthly_cost_expr
from mlops_infra.platform import MlPlatform
from mlops_infra.testing import one, plan, required_tags_present

# The encrypted StorageClass protected environments need (k8s.storage).
VOLUME_KEY = "arn:aws:kms:us-east-1:123456789012:key/0f2d9c1e-5b7a-4e3c-9d8f-6a1b2c3d4e5f"

ARGS = {
    "namespace": "churn-ns",
    "endpoint_name": "churn-prod-churn",
    "drift_metric": "churn_feature_psi",
    "drift_threshold": 0.25,
    "p95_latency_ms": 300,
    "error_rate_percent": 2,
    "retrain_trigger": "workflowtemplate/churn-prod-training",
    "selector_labels": {"release": "kube-prometheus-stack"},
}


@pytest.fixture(scope="module")
def stack():
    return plan(lambda: Monitoring("churn-monitoring", ARGS), environment="prod")


def _rules(stack):
    rule = one(stack, "kubernetes:monitoring.coreos.com/v1:PrometheusRule")
    assert rule.inputs["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    return {r["alert"]: r for r in rule.inputs["spec"]["groups"][0]["rules"]}


def test_p95_latency_alert(stack):
    rule = _rules(stack)["EndpointHighP95Latency"]
    assert rule["expr"].startswith("histogram_quantile(0.95, sum by (le) (rate(revision_app_request_latencies_bucket{")
    assert 'namespace="churn-ns"' in rule["expr"] and 'service=~"churn-prod-churn-predictor.*"' in rule["expr"]
    assert rule["expr"].endswith("* 0.001 > 0.3")  # ms histogram in seconds vs 300 ms in seconds
    assert rule["annotations"]["summary"].endswith("above 0.3s")
    assert rule["for"] == "10m"


def test_error_rate_alert(stack):
    rule = _rules(stack)["EndpointHighErrorRate"]
    assert 'response_code_class="5xx"' in rule["expr"] and rule["expr"].endswith("> 0.02")  # 2 % as a ratio
    assert rule["annotations"]["summary"].endswith("above 2%")
    assert rule["labels"]["severity"] == "critical"


def test_drift_alert_uses_the_configured_metric_and_threshold(stack):
    rule = _rules(stack)["EndpointFeatureDrift"]
    assert rule["expr"] == 'max(churn_feature_psi{namespace="churn-ns", model="churn-prod-churn"}) > 0.25'
    assert rule["labels"]["retrain"] == "true"
    assert rule["annotations"]["retrain_trigger"] == "workflowtemplate/churn-prod-training"


def test_service_monitor_and_scrape_policy(stack):
    monitor = one(stack, "kubernetes:monitoring.coreos.com/v1:ServiceMonitor").inputs["spec"]
    assert monitor["selector"] == {"matchLabels": {"serving.kserve.io/inferenceservice": "churn-prod-churn"}}
    assert monitor["namespaceSelector"] == {"matchNames": ["churn-ns"]}
    assert monitor["endpoints"] == [
        {"port": "http-usermetric", "path": "/metrics", "interval": "30s", "scheme": "http"}
    ]
    policy = one(stack, "kubernetes:networking.k8s.io/v1:NetworkPolicy").inputs["spec"]
    assert policy["ingress"][0]["ports"] == [{"port": "http-usermetric", "protocol": "TCP"}]
    assert policy["ingress"][0]["from"][0]["namespaceSelector"]["matchLabels"] == {
        "kubernetes.io/metadata.name": "monitoring"
    }


def test_grafana_dashboard_configmap(stack):
    dashboard = one(stack, "kubernetes:core/v1:ConfigMap").inputs
    assert dashboard["metadata"]["labels"]["grafana_dashboard"] == "1"
    board = json.loads(dashboard["data"]["churn-prod-churn.json"])
    panels = {p["title"]: p for p in board["panels"]}
    assert list(panels) == [
        "p95 latency (s)",
        "Error rate",
        "Invocations (requests/s)",
        "Feature drift",
        "Namespace spend (USD/month, OpenCost)",
    ]
    rules = _rules(stack)
    expr = {title: panel["targets"][0]["expr"] for title, panel in panels.items()}
    # latency, errors and drift plot exactly what their alerts compare, without the threshold
    assert rules["EndpointHighP95Latency"]["expr"] == expr["p95 latency (s)"] + " > 0.3"
    assert rules["EndpointHighErrorRate"]["expr"] == expr["Error rate"] + " > 0.02"
    # drift: one series per feature (legend = the feature); the alert compares their maximum
    drift_sel = 'churn_feature_psi{namespace="churn-ns", model="churn-prod-churn"}'
    assert expr["Feature drift"] == f"max by (feature) ({drift_sel})"
    assert panels["Feature drift"]["targets"][0]["legendFormat"] == "{{feature}}"
    assert rules["EndpointFeatureDrift"]["expr"] == f"max({drift_sel}) > 0.25"
    assert expr["Invocations (requests/s)"] == (
        'sum(rate(revision_app_request_count{namespace="churn-ns", service=~"churn-prod-churn-predictor.*"}[5m]))'
    )
    # the spend panel is the expression SpendBudget alerts on, for the same namespace
    assert expr["Namespace spend (USD/month, OpenCost)"] == monthly_cost_expr("churn-ns")
    units = [p["fieldConfig"]["defaults"]["unit"] for p in board["panels"]]
    assert units == ["s", "percentunit", "reqps", "none", "currencyUSD"]
    positions = {(p["gridPos"]["x"], p["gridPos"]["y"]) for p in board["panels"]}
    assert len(positions) == len(board["panels"])  # no panel hides another
    assert required_tags_present(stack) == []


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"drift_metric": "drift-score"}, "drift_metric"),
        ({"drift_threshold": 0}, "drift_threshold"),
        ({"drift_feature_thresholds": {"tenure_months": 0}}, "drift_feature_thresholds"),
        ({"drift_feature_thresholds": {'x"} or vector(1)': 0.3}}, "drift_feature_thresholds"),  # no PromQL injection
        ({"drift_feature_label": "feature-name"}, "drift_feature_label"),
        ({"alert_for": "ten minutes"}, "alert_for"),
        ({"error_rate_percent": 150}, "error_rate_percent"),
        ({"error_rate_percent": 0}, "error_rate_percent"),
        ({"p95_latency_ms": 0}, "p95_latency_ms"),
        ({"error_rate_threshold": 0.02}, "error_rate_threshold"),  # the old 0-1 field is gone, not ignored
        ({"endpoint_name": "Churn"}, "endpoint_name"),
    ],
)
def test_invalid_settings_name_the_field(overrides, field):
    args = {**ARGS, **overrides}
    with pytest.raises(pydantic.ValidationError) as info:
        MonitoringArgs.model_validate(args)
    assert info.value.errors()[0]["loc"][0] == field
    with pytest.raises(ProgramError, match=field):
        plan(lambda: Monitoring("m", args))


def test_drift_alert_off_leaves_latency_and_errors():
    stack = plan(lambda: Monitoring("churn-monitoring", {**ARGS, "drift_enabled": False}), environment="dev")
    assert set(_rules(stack)) == {"EndpointHighP95Latency", "EndpointHighErrorRate"}
    board = json.loads(one(stack, "kubernetes:core/v1:ConfigMap").inputs["data"]["churn-prod-churn.json"])
    assert [p["title"] for p in board["panels"]] == [
        "p95 latency (s)",
        "Error rate",
        "Invocations (requests/s)",
        "Namespace spend (USD/month, OpenCost)",
    ]


def test_drift_alert_compares_each_feature_with_its_own_threshold():
    """The same thresholds as the DriftDetector retrains on: one clause per overridden feature, one for the rest."""
    args = {**ARGS, "drift_metric": "model_feature_drift_score"}
    args["drift_feature_thresholds"] = {"tenure_months": 0.4, "monthly_charges": 0.15}
    stack = plan(lambda: Monitoring("churn-monitoring", args), environment="prod")
    rule = _rules(stack)["EndpointFeatureDrift"]
    sel = 'model_feature_drift_score{namespace="churn-ns", model="churn-prod-churn"'
    assert rule["expr"] == (
        f'max by (feature) ({sel}, feature="monthly_charges"}}) > 0.15'
        f' or max by (feature) ({sel}, feature="tenure_months"}}) > 0.4'
        f' or max by (feature) ({sel}, feature!="monthly_charges", feature!="tenure_months"}}) > 0.25'
    )
    # `or` binds looser than `>`: each clause is a comparison; every clause keeps the feature label
    clauses = rule["expr"].split(" or ")
    assert all(c.startswith("max by (feature) (") and c.count(" > ") == 1 for c in clauses)
    assert "{{ $labels.feature }}" in rule["annotations"]["summary"]
    assert "monthly_charges 0.15, tenure_months 0.4; others 0.25" in rule["annotations"]["summary"]
    assert rule["labels"]["retrain"] == "true" and rule["labels"]["severity"] == "warning"


def test_drift_thresholds_match_the_detectors_breach_rule():
    """Evaluate the clauses on sample scores as Prometheus would: a feature alerts iff the detector retrains."""
    thresholds = {"monthly_charges": 0.15}
    args = MonitoringArgs.model_validate({**ARGS, "drift_feature_thresholds": thresholds})
    expr = drift_expr(args, "churn-ns")
    scores = {"monthly_charges": 0.2, "tenure_months": 0.2, "contract": 0.3}
    firing = set()
    for clause in expr.split(" or "):
        selector, threshold = clause.rsplit(" > ", 1)
        for feature, score in scores.items():
            equal = f'feature="{feature}"' in selector
            other = "feature!=" in selector and f'feature!="{feature}"' not in selector
            if (equal or other) and score > float(threshold):
                firing.add(feature)
    detector = {f for f, s in scores.items() if s > thresholds.get(f, args.drift_threshold)}
    assert firing == detector == {"monthly_charges", "contract"}


def test_realized_platform_alerts_on_the_detectors_per_feature_thresholds():
    """MlPlatform on Kubernetes: the drift alert and the DriftDetector read the same DriftSpec.threshold_for."""
    root = Path(__file__).resolve().parents[2]
    spec = copy.deepcopy(yaml.safe_load((root / "stacks" / "platform" / "platform.yaml").read_text()))
    spec |= {
        "clouds": ["k8s"],
        "k8s": {
            "team": "churn-ml",
            "model_store_uri": "s3://acme-churn/models",
            "oidc_issuer_url": "https://login.acme.example/realms/ml",
            "storage": {"provisioner": "aws-ebs", "kms_key": VOLUME_KEY},
        },
    }
    spec["monitoring"]["drift"]["feature_thresholds"] = {"monthly_charges": 0.15}
    secrets = {
        "redisPassword": "a-long-redis-password",
        "postgresPassword": "a-long-postgres-password",
        "oidcClientSecret": "client-secret",
        "cookieSecret": "0123456789abcdef0123456789abcdef",
    }
    stack = plan(lambda: MlPlatform("churn", spec), environment="prod", config=secrets)
    (detector,) = [
        d
        for d in stack.by_type("kubernetes:apps/v1:Deployment")
        if d.inputs["metadata"]["labels"].get("app.kubernetes.io/component") == "drift-detector"
    ]
    env = {e["name"]: e.get("value") for e in detector.inputs["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert json.loads(env["FEATURE_THRESHOLDS"]) == {"monthly_charges": 0.15}
    assert env["THRESHOLD"] == "0.2"
    (drift,) = [
        r
        for rule in stack.by_type("kubernetes:monitoring.coreos.com/v1:PrometheusRule")
        for r in rule.inputs["spec"]["groups"][0]["rules"]
        if r["alert"] == "EndpointFeatureDrift"
    ]
    clauses = drift["expr"].split(" or ")
    assert len(clauses) == 2
    assert 'feature="monthly_charges"}) > 0.15' in clauses[0]
    assert 'feature!="monthly_charges"}) > 0.2' in clauses[1]
