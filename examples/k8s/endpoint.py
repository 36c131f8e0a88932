"""The churn model on KServe: sklearn from S3, 10% canary, autoscaling on concurrency, request logging.

The operations loop around it, each piece required by a policy in prod: the logger posts to a
DriftDetector (the capture sink that exports the drift metric the alert reads), a CanaryGuard rolls
the canary back on metrics, and AlertRouting sends every alert of the namespace to people.

Plan it offline:  mlops-infra plan examples/k8s/endpoint.py --config environment=prod
In dev the endpoint scales to zero when idle and rolls out at once (no canary, no guard).
"""

import pulumi

from mlops_infra.conventions import current_platform, init_platform
from mlops_infra.k8s import AlertRouting, CanaryGuard, DriftDetector, Endpoint, Monitoring
from mlops_infra.k8s.spend_budget import SpendBudget

init_platform(environment="dev", owner="ml-platform", costCenter="cc-1234")
protected = current_platform().protected
namespace = "churn-ml"
prometheus = {"release": "kube-prometheus-stack"}  # what kube-prometheus-stack selects objects by
# One threshold per feature, shared by the detector (its retrain decision) and the drift alert.
drift_threshold, feature_thresholds = 0.25, {"monthly_charges": 0.15}

# The capture sink: KServe's logger posts every request here; it exports model_feature_drift_score
# per feature (policy monitoring-required: the drift alert must read a metric the stack exports).
drift = DriftDetector(
    "drift",
    {
        "namespace": namespace,
        "features": ["tenure_months", "monthly_charges"],
        "threshold": drift_threshold,
        "feature_thresholds": feature_thresholds,
        "selector_labels": prometheus,
    },
)

endpoint = Endpoint(
    "churn",
    {
        "namespace": namespace,
        "model_format": "sklearn",
        "storage_uri": "s3://acme-churn/models/churn/v7",
        "canary_percent": 10 if protected else None,
        "min_replicas": 2 if protected else 0,
        "max_replicas": 8,
        "scale_metric": "concurrency",
        "scale_target": 20,
        "logger": {"url": drift.url_in(namespace), "mode": "all"},
    },
    opts=pulumi.ResourceOptions(depends_on=[drift]),
)

# Latency, error-rate and drift alerts on the endpoint (policy: monitoring-required in prod),
# labelled with their namespace so the namespace's AlertmanagerConfig routes them.
Monitoring(
    "churn-monitoring",
    {
        "namespace": namespace,
        "endpoint_name": endpoint.isvc_name,
        "drift_threshold": drift_threshold,
        "drift_feature_thresholds": feature_thresholds,
        "error_rate_percent": 1,
        "p95_latency_ms": 300,
        "alert_namespace_label": True,
        "selector_labels": prometheus,
    },
)

# The canary's metric gate (policy deployment-safety: a protected canary must be guarded): promote
# it after the bake time, roll it back (canaryTrafficPercent: 0) on the alerts' error rate or p95.
if protected:
    CanaryGuard(
        "churn-canary-guard",
        {
            "namespace": namespace,
            "inference_service": endpoint.isvc_name,
            "error_rate_percent": 1,
            "p95_latency_ms": 300,
            "rollout": {"strategy": "canary", "canary_percent": 10, "rollback_on_alarms": True},
        },
        opts=pulumi.ResourceOptions(depends_on=[endpoint]),
    )

# Every stack that runs workloads declares a spend budget (policy budget-required).
SpendBudget(
    "spend",
    {
        "namespace": namespace,
        "monthly_limit_usd": 1500,
        "alert_at_percent": [80, 90, 100],
        "selector_labels": prometheus,
    },
)

# Who hears the alerts above (policy alert-routing): e-mail here; add `pagerduty` for critical and
# `slack` for warnings with keys from secret config (see examples/k8s/alert_routing.py).
AlertRouting("alerts", {"namespace": namespace, "emails": ["ml-oncall@example.com"], "selector_labels": prometheus})

pulumi.export("url", endpoint.url)
pulumi.export("name", endpoint.isvc_name)
