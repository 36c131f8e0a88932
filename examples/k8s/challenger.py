"""A challenger next to the churn champion: 10% of live traffic (A/B) through a Gateway API HTTPRoute.

Both models are KServe InferenceServices in Standard mode (the router targets their
``<isvc>-predictor`` Services); the TrafficRouter owns the endpoint's address, a Service that the
mesh routes by the HTTPRoute (Gateway API mesh mode) or an Istio VirtualService. Set
``mode: shadow`` to mirror a copy of the requests instead (the challenger's answers are logged by its
KServe logger and discarded by the mesh).

Plan it offline:  mlops-infra plan examples/k8s/challenger.py --config environment=prod
"""

import pulumi

from mlops_infra.conventions import current_platform, init_platform
from mlops_infra.k8s import AlertRouting, DriftDetector, Endpoint, Monitoring, TrafficRouter
from mlops_infra.k8s.spend_budget import SpendBudget

init_platform(environment="dev", owner="ml-platform", costCenter="cc-1234")
protected = current_platform().protected
namespace = "churn-ml"
prometheus = {"release": "kube-prometheus-stack"}

# Both models' KServe loggers post to the drift detector (data capture and drift in prod).
drift = DriftDetector(
    "drift",
    {"namespace": namespace, "features": ["tenure_months", "monthly_charges"], "selector_labels": prometheus},
)

models = {"churn": "s3://acme-churn/models/churn/v7", "churn-challenger": "s3://acme-churn/models/churn/v8"}
served = {
    name: Endpoint(
        name,
        {
            "namespace": namespace,
            "model_format": "xgboost",
            "storage_uri": uri,
            "deployment_mode": "Standard",  # plain Deployments + HPA: the router splits between their Services
            "min_replicas": 2 if protected else 1,  # Standard mode never scales to zero
            "max_replicas": 6,
            "scale_metric": "cpu",
            "scale_target": 60,
            "logger": {"url": drift.url_in(namespace), "mode": "all"},
        },
        opts=pulumi.ResourceOptions(depends_on=[drift]),
    )
    for name, uri in models.items()
}

# Latency, error-rate and drift alerts on each model (policy monitoring-required in prod).
for name, endpoint in served.items():
    Monitoring(
        f"{name}-monitoring",
        {
            "namespace": namespace,
            "endpoint_name": endpoint.isvc_name,
            "error_rate_percent": 1,
            "p95_latency_ms": 300,
            "alert_namespace_label": True,
            "selector_labels": prometheus,
        },
    )

router = TrafficRouter(
    "churn-router",
    {
        "namespace": namespace,
        "champion": served["churn"].isvc_name,
        "challenger": served["churn-challenger"].isvc_name,
        "mode": "ab",
        "percent": 10,
        "router": "gateway_api",  # or "istio": a VirtualService with route weights
    },
    opts=pulumi.ResourceOptions(depends_on=list(served.values())),
)

SpendBudget(
    "spend",
    {"namespace": namespace, "monthly_limit_usd": 1500, "alert_at_percent": [80, 100], "selector_labels": prometheus},
)
AlertRouting("alerts", {"namespace": namespace, "emails": ["ml-oncall@example.com"], "selector_labels": prometheus})

pulumi.export("url", router.url)
