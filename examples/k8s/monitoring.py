"""Alerts and a dashboard for the churn endpoint: p95 latency, 5xx rate and feature drift (PSI).

Plan it offline:  mlops-infra plan examples/k8s/monitoring.py --config environment=prod
"""

import pulumi

from mlops_infra.conventions import current_platform, init_platform
from mlops_infra.k8s import Monitoring

init_platform(environment="dev", owner="ml-platform", costCenter="cc-1234")
environment = current_platform().environment

monitoring = Monitoring(
    "churn-monitoring",
    {
        "namespace": "churn-ml",
        "endpoint_name": f"churn-{environment}-churn",
        "drift_metric": "churn_feature_psi",
        "drift_threshold": 0.25,
        "p95_latency_ms": 300,
        "retrain_trigger": f"workflowtemplate/churn-{environment}-training",
        "selector_labels": {"release": "kube-prometheus-stack"},
    },
)

pulumi.export("prometheus_rule", f"churn-{environment}-churn-monitoring")
