"""Alerts and a dashboard for the churn endpoint: p95 latency, 5xx rate and feature drift, routed to people.

The drift alert reads model_feature_drift_score, the gauge a DriftDetector exports per feature
(see examples/k8s/endpoint.py for the detector); each feature is compared with its own threshold.

Plan it offline:  mlops-infra plan examples/k8s/monitoring.py --config environment=prod
"""

import pulumi

from mlops_infra.conventions import current_platform, init_platform
from mlops_infra.k8s import AlertRouting, Monitoring

init_platform(environment="dev", owner="ml-platform", costCenter="cc-1234")
environment = current_platform().environment
prometheus = {"release": "kube-prometheus-stack"}

monitoring = Monitoring(
    "churn-monitoring",
    {
        "namespace": "churn-ml",
        "endpoint_name": f"churn-{environment}-churn",
        "drift_metric": "model_feature_drift_score",  # what the DriftDetector exports
        "drift_threshold": 0.25,
        "drift_feature_thresholds": {"monthly_charges": 0.15},  # as the detector's feature_thresholds
        "p95_latency_ms": 300,
        "retrain_trigger": f"workflowtemplate/churn-{environment}-training",
        "alert_namespace_label": True,  # so the namespace's AlertmanagerConfig routes the alerts
        "selector_labels": prometheus,
    },
)

# Policy alert-routing: every alert above (critical 5xx rate, warning latency and drift) reaches a person.
AlertRouting("alerts", {"namespace": "churn-ml", "emails": ["ml-oncall@example.com"], "selector_labels": prometheus})

pulumi.export("prometheus_rule", f"churn-{environment}-churn-monitoring")
